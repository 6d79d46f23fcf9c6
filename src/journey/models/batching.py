"""Micro-batching: concurrent chats generated together, one decode step for all of them at a time.

A server answers many customers with one model. Generating their replies one after another leaves most
of each forward pass unused (a decode step of eight rows costs far less than eight steps of one), so a
`BatchingEngine` runs one generation loop on its own thread: requests that arrive while it runs join the
running batch at the next step (up to `max_batch` rows; an idle engine waits `window_s` for company);
each row stops at its own end-of-turn token or `max_new_tokens` and leaves; its tokens reach its caller
through its own queue, so every chat still streams.

Rows are left-padded into one shared KV cache (transformers' `DynamicCache`) with an attention mask and
per-row positions, so each row's greedy output is the one it gets alone (tests/test_batching.py).
transformers' own continuous batching (`init_continuous_batching`) also runs on CPU and gives the same
tokens, but sizes its paged cache from free memory (6 GB resident for SmolLM2-135M), spends ~20 s on its
first batch, and applies only its built-in per-request logits processors; this loop holds only the rows
it runs, starts at once, and has one place for any logits processor (`_choose`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from transformers import DynamicCache, PreTrainedModel, PreTrainedTokenizerBase
from transformers.cache_utils import DynamicLayer
from transformers.generation.logits_process import LogitsProcessor, TopPLogitsWarper

from journey.models.backends import Generation, TransformersBackend
from journey.models.loading import token_id_list
from journey.models.messages import Messages

log = logging.getLogger(__name__)
_DONE = object()  # the end of a request's token queue


class EngineClosed(RuntimeError):
    """The engine shut down before the request finished."""


class BatchingUnsupported(RuntimeError):
    """The model's KV cache cannot be batched row by row here (sliding-window or recurrent layers)."""


@dataclass(eq=False)
class _Request:
    prompt: list[int]
    max_new_tokens: int
    tokens: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)  # token ids, then _DONE or an exception
    cancelled: threading.Event = field(default_factory=threading.Event)
    generated: int = 0
    processor: LogitsProcessor | None = None  # this row's own (grounded facts), fed the prompt and its tokens
    sequence: list[int] = field(default_factory=list)  # prompt and generated tokens, while a processor needs them


@dataclass
class _Batch:
    """The running rows and what they share: one KV cache, its attention mask, each row's next position and token."""

    requests: list[_Request]
    cache: DynamicCache
    mask: torch.Tensor  # (rows, cache length), 0 on left padding
    positions: torch.Tensor  # (rows,) position of each row's next token
    last: torch.Tensor  # (rows,) each row's newest token, the next step's input

    def keep(self, rows: list[int]) -> None:
        """Keep only `rows`, and drop cache columns that are padding in every row left."""
        index = torch.tensor(rows)
        self.requests = [self.requests[i] for i in rows]
        self.mask, self.positions, self.last = self.mask[index], self.positions[index], self.last[index]
        start = int(self.mask.any(0).nonzero()[0])
        self.mask = self.mask[:, start:]
        for layer in self.cache.layers:
            layer.keys, layer.values = layer.keys[index, :, start:], layer.values[index, :, start:]

    def extend(self, other: _Batch) -> None:
        """Add `other`'s rows, left-padding whichever cache is shorter."""
        width = max(self.mask.shape[1], other.mask.shape[1])
        for mine, theirs in zip(self.cache.layers, other.cache.layers, strict=True):
            mine.keys = torch.cat([_pad_left(mine.keys, width, 2), _pad_left(theirs.keys, width, 2)])
            mine.values = torch.cat([_pad_left(mine.values, width, 2), _pad_left(theirs.values, width, 2)])
        self.mask = torch.cat([_pad_left(self.mask, width, 1), _pad_left(other.mask, width, 1)])
        self.requests += other.requests
        self.positions = torch.cat([self.positions, other.positions])
        self.last = torch.cat([self.last, other.last])


class BatchingEngine:
    """Generates for many callers at once with one model: `submit` from any thread, read its token ids.
    `max_batch` None: measured on this machine at start (`_measure_max_batch`); either way it is logged."""

    def __init__(
        self,
        model: PreTrainedModel,
        *,
        max_batch: int | None = None,
        window_s: float = 0.005,
        temperature: float = 0.0,
        name: str = "model",
    ) -> None:
        self.model = model
        self.window_s = window_s
        self.temperature = temperature
        self.stop_ids = set(token_id_list(model.generation_config.eos_token_id))
        self._probe()
        if max_batch:
            self.max_batch = max_batch
            log.info("batching up to %d chats per decode step (as set)", max_batch,
                     extra={"max_batch": max_batch, "max_batch_reason": "set"})  # fmt: skip
        else:
            self.max_batch = self._measure_max_batch()
        self._waiting: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._batch: _Batch | None = None
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"journey-batch-{name}", daemon=True)
        self._thread.start()

    # -- callers' side ---------------------------------------------------------------
    def submit(self, prompt: list[int], max_new_tokens: int, processor: LogitsProcessor | None = None) -> Iterator[int]:
        """Queue a generation now; iterate the result for its new token ids (the stop token is not included).
        `processor` sees this row's logits before each token is chosen. Closing the iterator early cancels
        the request."""
        if not prompt or max_new_tokens < 1:
            raise ValueError("a generation needs a prompt and at least one new token")
        if self._closing.is_set():
            raise EngineClosed("the model is shutting down")
        request = _Request(list(prompt), max_new_tokens, processor=processor, sequence=list(prompt))
        self._waiting.put(request)
        if self._closing.is_set() and not self._thread.is_alive():
            _fail(_drain(self._waiting))  # closed between the check and the put
        return self._read(request)

    @staticmethod
    def _read(request: _Request) -> Iterator[int]:
        try:
            while (item := request.tokens.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            request.cancelled.set()  # a no-op once finished; else the engine drops the row at its next step

    def close(self, timeout: float = 10.0) -> None:
        """Stop the loop after its current step; requests not finished get `EngineClosed`."""
        self._closing.set()
        self._thread.join(timeout)
        _fail(_drain(self._waiting))  # any that came in while the loop stopped

    # -- the generation thread ---------------------------------------------------------
    def _run(self) -> None:
        with torch.inference_mode():
            while not self._closing.is_set():
                taken: list[_Request] = []
                try:
                    self._admit(taken := self._take())
                    if self._batch is not None:
                        self._step()
                except Exception as exc:  # a failed step fails its rows, not the engine
                    log.exception("A batched generation step failed")
                    for request in {*taken, *(self._batch.requests if self._batch else [])}:
                        request.tokens.put(exc)  # (after the end of a finished one: never read)
                    self._batch = None
        _fail((self._batch.requests if self._batch else []) + _drain(self._waiting))

    def _take(self) -> list[_Request]:
        """Waiting requests for the free rows: without a running batch, block for one and wait `window_s` for more."""
        free = self.max_batch - (len(self._batch.requests) if self._batch else 0)
        taken: list[_Request] = []
        if self._batch is None:
            try:
                taken.append(self._waiting.get(timeout=0.1))
            except queue.Empty:
                return []
            deadline = time.monotonic() + self.window_s
            while len(taken) < free and (left := deadline - time.monotonic()) > 0:
                try:
                    taken.append(self._waiting.get(timeout=left))
                except queue.Empty:
                    break
        while len(taken) < free:
            try:
                taken.append(self._waiting.get_nowait())
            except queue.Empty:
                break
        return [request for request in taken if not request.cancelled.is_set()]

    def _admit(self, requests: list[_Request]) -> None:
        """Prefill `requests` together (alone, if that fails, so one bad prompt fails only itself) and join them."""
        if not requests:
            return
        try:
            joining = [self._prefill(requests)]
        except Exception:
            joining = []
            for request in requests:
                try:
                    joining.append(self._prefill([request]))
                except Exception as exc:
                    log.warning("A generation request failed at its prompt: %s", exc)
                    request.tokens.put(exc)
        for batch in filter(None, map(self._settle, joining)):
            if self._batch is None:
                self._batch = batch
            else:
                self._batch.extend(batch)

    def _prefill(self, requests: list[_Request]) -> _Batch:
        width = max(len(r.prompt) for r in requests)
        input_ids = torch.zeros((len(requests), width), dtype=torch.long)
        mask = torch.zeros_like(input_ids)
        for row, request in enumerate(requests):
            input_ids[row, width - len(request.prompt) :] = torch.tensor(request.prompt)
            mask[row, width - len(request.prompt) :] = 1
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        cache = DynamicCache(config=self.model.config)
        out = self.model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        if not all(type(layer) is DynamicLayer for layer in cache.layers):
            raise BatchingUnsupported("its cache has layers other than full attention")
        last = self._choose(out.logits[:, -1], requests)
        return _Batch(list(requests), cache, mask, positions[:, -1] + 1, last)

    def _step(self) -> None:
        self._decode(self._batch)
        self._batch = self._settle(self._batch)

    def _decode(self, batch: _Batch) -> None:
        """One forward pass of every row: each row's next token into `batch.last`."""
        batch.mask = torch.cat([batch.mask, torch.ones((len(batch.requests), 1), dtype=torch.long)], dim=1)
        out = self.model(
            input_ids=batch.last[:, None],
            attention_mask=batch.mask,
            position_ids=batch.positions[:, None],
            cache=batch.cache,
            use_cache=True,
        )
        batch.positions = batch.positions + 1
        batch.last = self._choose(out.logits[:, -1], batch.requests)

    def _choose(self, logits: torch.Tensor, requests: list[_Request]) -> torch.Tensor:
        """Each row's next token from its logits (rows × vocabulary), after that row's processor, greedy as
        `TransformersBackend` asks of `generate`, or sampled with `temperature` and top-p 0.95 likewise."""
        for row, request in enumerate(requests):
            if request.processor is not None:
                logits[row : row + 1] = request.processor(torch.tensor([request.sequence]), logits[row : row + 1])
        if self.temperature <= 0:
            return logits.argmax(-1)
        scores = TopPLogitsWarper(0.95)(None, logits.float() / self.temperature)
        return torch.multinomial(scores.softmax(-1), 1)[:, 0]

    def _settle(self, batch: _Batch) -> _Batch | None:
        """Send each row its newest token; rows that stopped, reached their limit or were cancelled leave.
        Returns the rows that stay (None: none)."""
        staying = []
        for row, (request, token) in enumerate(zip(batch.requests, batch.last.tolist(), strict=True)):
            if request.cancelled.is_set():
                continue
            if token in self.stop_ids:
                request.tokens.put(_DONE)
                continue
            request.tokens.put(token)
            request.generated += 1
            if request.processor is not None:
                request.sequence.append(token)
            if request.generated >= request.max_new_tokens:
                request.tokens.put(_DONE)
            else:
                staying.append(row)
        if not staying:
            return None
        if len(staying) < len(batch.requests):
            batch.keep(staying)
        return batch

    def _probe(self) -> None:
        """Raise `BatchingUnsupported` unless a prompt prefills into a cache this engine can batch."""
        try:
            with torch.inference_mode():
                self._prefill([_Request([min(3, self.model.config.vocab_size - 1)] * 2, 1)])
        except BatchingUnsupported:
            raise
        except Exception as exc:
            raise BatchingUnsupported(f"its forward pass does not take a batched cache ({exc})") from exc

    def _measure_max_batch(self, *, limit: int = 64, prompt_tokens: int = 32, seconds: float = 0.05) -> int:
        """The batch size to serve with, measured on this machine: keep doubling the rows of a decode step while
        that raises tokens per second by at least a quarter (each size timed three times for `seconds`)."""
        prompt = [min(3, self.model.config.vocab_size - 1)] * prompt_tokens
        rates: dict[int, float] = {}
        best = size = 1
        with torch.inference_mode():
            while size <= limit:
                batch = self._prefill([_Request(prompt, 1) for _ in range(size)])
                self._decode(batch)  # warm up this shape
                rates[size] = max(self._decode_rate(batch, seconds) for _ in range(3))  # the best of three: noise
                if size > 1 and rates[size] < rates[size // 2] * 1.25:
                    break
                best, size = size, size * 2
        log.info(
            "batching up to %d chats per decode step (measured tokens/s by rows: %s)", best,
            ", ".join(f"{s}: {rate:.0f}" for s, rate in rates.items()),
            extra={"max_batch": best, "max_batch_reason": "measured", "tokens_per_s_by_rows": rates},
        )  # fmt: skip
        return best

    def _decode_rate(self, batch: _Batch, seconds: float) -> float:
        """Tokens per second of decode steps of `batch`, timed for at least `seconds`."""
        start, steps = time.perf_counter(), 0
        while (elapsed := time.perf_counter() - start) < seconds or steps < 2:
            self._decode(batch)
            steps += 1
        return len(batch.requests) * steps / elapsed


class BatchedBackend:
    """A `TransformersBackend` whose generations run in a `BatchingEngine` (the same two-method `Backend`)."""

    def __init__(self, backend: TransformersBackend, engine: BatchingEngine) -> None:
        self.name = backend.name
        self.backend = backend
        self.engine = engine

    def generate(self, conversations: list[Messages], *, max_new_tokens: int) -> list[Generation]:
        """Generate every reply in the engine's batch: all are submitted before any is read."""
        start = time.perf_counter()
        encoded = [self.backend.encode(m, max_new_tokens=max_new_tokens) for m in conversations]
        streams = [
            self.engine.submit(ids, max_new_tokens, self.backend.grounding([m]))
            for (ids, _), m in zip(encoded, conversations, strict=True)
        ]
        results = []
        for (ids, truncated), stream in zip(encoded, streams, strict=True):
            tokens = list(stream)
            text = self.backend.tokenizer.decode(tokens, skip_special_tokens=True).strip()
            results.append(Generation(text, len(ids), len(tokens), time.perf_counter() - start, truncated))
        return results

    def stream(self, messages: Messages, *, max_new_tokens: int) -> Iterator[str]:
        """Yield the reply's text piece by piece as the engine generates it."""
        ids, _ = self.backend.encode(messages, max_new_tokens=max_new_tokens)
        tokens = self.engine.submit(ids, max_new_tokens, self.backend.grounding([messages]))
        yield from text_pieces(self.backend.tokenizer, tokens)


def text_pieces(tokenizer: PreTrainedTokenizerBase, tokens: Iterator[int]) -> Iterator[str]:
    """Decode token ids into the text each adds, holding a piece back while it ends inside a character."""
    ids: list[int] = []
    sent = ""
    for token in tokens:
        ids.append(token)
        text = tokenizer.decode(ids, skip_special_tokens=True)
        if len(text) > len(sent) and not text.endswith("\ufffd"):
            yield text[len(sent) :]
            sent = text
    if len(text := tokenizer.decode(ids, skip_special_tokens=True)) > len(sent):
        yield text[len(sent) :]  # what the last tokens left unfinished


def _pad_left(tensor: torch.Tensor, width: int, dim: int) -> torch.Tensor:
    missing = width - tensor.shape[dim]
    if missing == 0:
        return tensor
    return F.pad(tensor, (0, 0) * (tensor.dim() - 1 - dim) + (missing, 0))


def _fail(requests: list[_Request]) -> None:
    closed = EngineClosed("the model shut down before the reply was finished")
    for request in requests:
        request.tokens.put(closed)


def _drain(waiting: queue.SimpleQueue) -> list[_Request]:
    drained = []
    while True:
        try:
            drained.append(waiting.get_nowait())
        except queue.Empty:
            return drained
