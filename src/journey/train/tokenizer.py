"""Train a byte-level BPE tokenizer with the special tokens of a ChatML chat template."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from jinja2.sandbox import ImmutableSandboxedEnvironment
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_SPECIAL = re.compile("|".join(re.escape(token) for token in SPECIAL_TOKENS))


def train_tokenizer(texts: Iterable[str], *, vocab_size: int) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on `texts`, ready for chat (ChatML template, EOS = <|im_end|>).

    Special-token strings inside `texts` (chat-formatted tickets) are left out of the
    statistics, so no merges are spent on pieces of them.
    """
    from transformers import PreTrainedTokenizerFast  # imported here: reading a corpus needs no transformers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_without_special_tokens(texts), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        unk_token="<|endoftext|>",
        chat_template=CHATML_TEMPLATE,
        model_max_length=2048,
    )


def render_chat(messages: list[dict[str, str]]) -> str:
    """A conversation as the text the chat template makes of it (the same Jinja template, no tokenizer)."""
    template = ImmutableSandboxedEnvironment().from_string(CHATML_TEMPLATE)
    return template.render(messages=messages, add_generation_prompt=False)


def _without_special_tokens(texts: Iterable[str]) -> Iterator[str]:
    for text in texts:
        yield _SPECIAL.sub("\n", text)
