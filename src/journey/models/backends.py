"""Generation backends: in-process transformers, or any OpenAI-compatible server.

Both take chat messages (OpenAI format) and return text; the assistant pipeline
does not know which one it talks to.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import torch
from transformers import LogitsProcessorList, PreTrainedModel, PreTrainedTokenizerBase, TextIteratorStreamer

from journey.models.grounding import GroundedFacts, Grounder
from journey.models.loading import token_id_list
from journey.models.messages import Messages
from journey.models.prefix_cache import PrefixCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Generation:
    """One generated reply with what it cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    truncated_prompt: bool = False


class Backend(Protocol):
    """What the assistant needs from a model."""

    name: str

    def generate(self, conversations: list[Messages], *, max_new_tokens: int) -> list[Generation]: ...

    def stream(self, messages: Messages, *, max_new_tokens: int) -> Iterator[str]: ...


class TransformersBackend:
    """Generate in-process with a transformers model (optionally a PEFT-wrapped one).

    `grounded`: every fact-like span it writes (number, price, date, code, e-mail) is
    copied from the conversation it was given (models/grounding.py). `reuse_prefix`: a single
    conversation's prompt starts from the cached keys and values of the start that the recent prompts
    shared (models/prefix_cache.py).
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str = "transformers",
        temperature: float = 0.0,
        context_window: int | None = None,
        grounded: bool = False,
        reuse_prefix: bool = True,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.temperature = temperature
        self.context_window = context_window or _context_window(model, tokenizer)
        self.grounded = grounded
        self._grounder = Grounder(tokenizer, model.config.vocab_size) if grounded else None
        self.prefix = PrefixCache() if reuse_prefix else None
        self._lock = threading.Lock()  # one forward pass at a time; callers may be threads

    def encode(self, messages: Messages, *, max_new_tokens: int) -> tuple[list[int], bool]:
        """Token ids of the chat prompt, keeping the last tokens if it is longer than the context."""
        return encode_chat(self.tokenizer, messages, self.context_window, max_new_tokens)

    def _sampling(self, max_new_tokens: int) -> dict:
        kwargs: dict = {"max_new_tokens": max_new_tokens, "pad_token_id": self.model.generation_config.pad_token_id}
        if self.temperature > 0:
            kwargs.update(do_sample=True, temperature=self.temperature, top_p=0.95)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def grounding(self, conversations: list[Messages]) -> GroundedFacts | None:
        """The processor that keeps each row's facts to its own conversation's, when grounding is on."""
        return self._grounder.processor(conversations) if self._grounder else None

    def _grounding(self, conversations: list[Messages]) -> dict:
        """generate()'s keyword for `grounding`, or none."""
        processor = self.grounding(conversations)
        return {"logits_processor": LogitsProcessorList([processor])} if processor else {}

    def _generate(self, kwargs: dict, single: list[int] | None) -> torch.Tensor:
        """model.generate(**kwargs) (the caller holds the lock); `single`: the prompt's ids when it is one
        conversation, which then starts from the cached prefix and leaves its own for the next."""
        if single is None or self.prefix is None:
            return self.model.generate(**kwargs)
        if (cache := self.prefix.start(single)) is not None:
            kwargs = {**kwargs, "cache": cache}
        output = self.model.generate(**kwargs, return_dict_in_generate=True)
        self.prefix.remember(single, output.cache)
        return output.sequences

    def generate(self, conversations: list[Messages], *, max_new_tokens: int) -> list[Generation]:
        """Generate replies for a batch of conversations in one left-padded forward pass."""
        encoded = [self.encode(m, max_new_tokens=max_new_tokens) for m in conversations]
        pad_id = self.model.generation_config.pad_token_id
        width = max(len(ids) for ids, _ in encoded)
        input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
        attention = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, (ids, _) in enumerate(encoded):
            input_ids[row, width - len(ids) :] = torch.tensor(ids)
            attention[row, width - len(ids) :] = 1
        start = time.perf_counter()
        kwargs = {"input_ids": input_ids, "attention_mask": attention, **self._sampling(max_new_tokens)}
        kwargs |= self._grounding(conversations)
        with self._lock, torch.inference_mode():
            output = self._generate(kwargs, encoded[0][0] if len(encoded) == 1 else None)
        seconds = time.perf_counter() - start
        stop_ids = set(token_id_list(self.model.generation_config.eos_token_id)) | {pad_id}
        results = []
        for row, (ids, truncated) in enumerate(encoded):
            new = output[row, width:].tolist()
            completion = _until_stop(new, stop_ids)
            text = self.tokenizer.decode(completion, skip_special_tokens=True).strip()
            results.append(Generation(text, len(ids), len(completion), seconds, truncated))
        return results

    def stream(self, messages: Messages, *, max_new_tokens: int) -> Iterator[str]:
        """Yield the reply's text piece by piece as it is generated."""
        ids, _ = self.encode(messages, max_new_tokens=max_new_tokens)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = {
            "input_ids": torch.tensor([ids]),
            "streamer": streamer,
            **self._sampling(max_new_tokens),
            **self._grounding([messages]),
        }

        def run() -> None:
            with self._lock, torch.inference_mode():
                self._generate(kwargs, ids)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        yield from streamer
        worker.join()


def encode_chat(
    tokenizer: PreTrainedTokenizerBase, messages: Messages, context_window: int, max_new_tokens: int
) -> tuple[list[int], bool]:
    """Token ids of the chat prompt and whether its start was cut to leave `max_new_tokens` in the context."""
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(ids, dict) or hasattr(ids, "input_ids"):
        ids = ids["input_ids"]
    budget = max(context_window - max_new_tokens, 1)
    if len(ids) <= budget:
        return list(ids), False
    log.warning("Prompt of %d tokens exceeds the %d-token budget; keeping the end.", len(ids), budget)
    return list(ids[-budget:]), True


def _context_window(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int:
    window = getattr(model.config, "max_position_embeddings", None) or tokenizer.model_max_length
    return int(min(window, 32768))


def _until_stop(tokens: list[int], stop_ids: set[int]) -> list[int]:
    for index, token in enumerate(tokens):
        if token in stop_ids:
            return tokens[:index]
    return tokens
