"""Chat conversations → token ids and labels, with the loss on assistant tokens only.

The conversation is rendered with the base tokenizer's own chat template. Each
assistant turn's characters are found by rendering the conversation up to that turn
(with and without the generation prompt); tokens whose characters fall inside are
labelled, so the end-of-turn token (`<|im_end|>` in ChatML) is learnt and the
model stops where it should. Everything else is -100.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from journey.models.messages import Messages

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    """One training example: token ids, labels (-100 where no loss) and whether it was cut."""

    input_ids: list[int]
    labels: list[int]
    truncated: bool

    @property
    def trained_tokens(self) -> int:
        return sum(label != IGNORE for label in self.labels)


def assistant_spans(tokenizer: PreTrainedTokenizerBase, messages: Messages) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character span of each assistant reply, end-of-turn token included."""
    render = tokenizer.apply_chat_template
    text = render(messages, tokenize=False)
    spans = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = render(messages[:index], tokenize=False, add_generation_prompt=True)
        upto = render(messages[: index + 1], tokenize=False)
        if not text.startswith(upto) or not upto.startswith(prompt):
            continue  # a template that re-renders earlier turns differently: that turn is not learnt
        end = len(upto.rstrip())  # the newline after the end-of-turn token is never generated
        spans.append((len(prompt), end))
    return text, spans


def encode(tokenizer: PreTrainedTokenizerBase, messages: Messages, seq_len: int) -> Encoded | None:
    """Token ids and labels of a conversation, cut to `seq_len`; None when no assistant token is left."""
    text, spans = assistant_spans(tokenizer, messages)
    tokens = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = tokens["input_ids"], tokens["offset_mapping"]
    labels = [
        token if any(start <= first < end for start, end in spans) else IGNORE
        for token, (first, _) in zip(ids, offsets, strict=True)
    ]
    truncated = len(ids) > seq_len
    example = Encoded(ids[:seq_len], labels[:seq_len], truncated)
    return example if example.trained_tokens else None
