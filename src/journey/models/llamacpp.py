"""The llama.cpp backend (`model.backend = "llamacpp"`), also `journey export`'s check of a GGUF file it wrote.

Optional: llama-cpp-python is not a dependency (it compiles llama.cpp on install): `pip install 'journey[llamacpp]'`.
The set-up's model (base + LoRA adapter merged) is written once with journey's own GGUF writer
(models/export.py) and cached under the model cache, keyed by a digest of the base's and adapter's files,
the outtype and the writer's source, so a changed adapter is written again and a stale file is never used.
The chat is formatted and decoded with journey's tokenizer, exactly as the transformers backend formats it;
llama.cpp gets the token ids. Grounded generation passes each step's logits through models/grounding.py
(llama-cpp's `logits_processor`). Prompt reuse is llama-cpp's own: `Llama.generate` keeps the KV cache of
the longest start the new prompt shares with the last prompt and reply, and evaluates only the rest.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from journey.errors import UserError
from journey.models.backends import Generation, encode_chat
from journey.models.conversion import architecture, digest
from journey.models.grounding import GroundedFacts, Grounder
from journey.models.messages import Messages

log = logging.getLogger(__name__)

MAX_CONTEXT = 8192  # tokens of KV cache llama.cpp allocates at most (SmolLM2 is trained for 8192)
TOP_P = 0.95


class LlamaCppUnsupported(UserError):
    """journey's GGUF writer cannot write this model (its architecture, usually)."""


def _llama():
    try:
        from llama_cpp import Llama
    except ImportError:
        raise UserError("model.backend = 'llamacpp' needs llama-cpp-python: pip install 'journey[llamacpp]'") from None
    return Llama


def converted_gguf(base_folder: Path, adapter: Path | None, *, outtype: str, base: str | None = None) -> Path:
    """The GGUF file of `base_folder` (+ `adapter` merged), written once and cached."""
    from journey.models import export

    writer = hashlib.sha256(Path(export.__file__).read_bytes()).hexdigest()
    key = digest([base_folder, adapter], [outtype, writer])
    from journey.models.loading import cache_root, load_model

    target = cache_root() / "gguf" / f"{base_folder.name}-{outtype}-{key[:16]}.gguf"
    if target.is_file():  # the writer renames a finished file into place
        return target
    model, tokenizer = load_model(str(base_folder))
    try:
        export.check_exportable(model, tokenizer)
    except UserError as exc:
        reason = f"journey cannot write the {architecture(base_folder)} model as GGUF ({exc})"
        raise LlamaCppUnsupported(reason) from None
    if adapter is not None:
        from journey.models.adapters import attach_adapter

        model = attach_adapter(model, adapter, base=base or str(base_folder)).merge_and_unload()
    log.info("Writing %s as GGUF (%s) once; cached at %s", base_folder.name, outtype, target)
    export.write_gguf(model, tokenizer, target, outtype=outtype, name=base_folder.name)
    return target


def llamacpp_backend(
    base: str, adapter: Path | None, *, outtype: str, name: str, temperature: float, grounded: bool = False
) -> LlamaCppBackend:
    """The llama.cpp backend for a set-up: `base` (+ a LoRA `adapter`, or a fully fine-tuned model folder)."""
    from journey.models.loading import load_tokenizer, resolve_base
    from journey.models.onnx import torch_threads

    _llama()  # one sentence before any conversion when llama-cpp-python is missing
    if adapter is not None and (adapter / "config.json").is_file():
        base, adapter = str(adapter), None  # a full fine-tune is a model folder of its own
    folder = Path(resolve_base(base))
    path = converted_gguf(folder, adapter, outtype=outtype, base=base)
    threads = torch_threads()
    log.info("llama.cpp: %s, %d threads", path.name, threads)
    return LlamaCppBackend(
        path, load_tokenizer(str(folder)), name=name, temperature=temperature, threads=threads, grounded=grounded
    )


class LlamaCppBackend:
    """Generate with llama.cpp from a GGUF file; the prompt is built by the Hugging Face tokenizer's chat template
    (`journey export` passes the tokenizer read back from the file, so its check covers the file's template)."""

    def __init__(
        self,
        path: Path,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str = "llama.cpp",
        temperature: float = 0.0,
        threads: int | None = None,
        grounded: bool = False,
    ) -> None:
        import llama_cpp

        Llama = _llama()
        self._llm = Llama(model_path=str(path), n_ctx=0, n_threads=threads, n_threads_batch=threads, verbose=False)
        if self._llm.n_ctx() > MAX_CONTEXT:
            self._llm = Llama(
                model_path=str(path), n_ctx=MAX_CONTEXT, n_threads=threads, n_threads_batch=threads, verbose=False
            )
        vocab = self._llm._model.vocab
        self.stop_ids = {t for t in range(self._llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)}
        self.tokenizer = tokenizer
        self.name = name
        self.temperature = temperature
        self.context_window = self._llm.n_ctx()
        self.grounded = grounded
        self._grounder = Grounder(tokenizer, self._llm.n_vocab()) if grounded else None
        self._lock = threading.Lock()

    def complete(self, ids: list[int], *, max_new_tokens: int, processor: GroundedFacts | None = None) -> Iterator[int]:
        """Yield the new token ids after the prompt `ids`, up to `max_new_tokens` or an end-of-turn token."""
        sampling = {"temp": self.temperature, "top_p": TOP_P, "top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0}
        hooks = {"logits_processor": [_numpy_processor(processor)]} if processor is not None else {}
        count = 0
        with self._lock:
            for token in self._llm.generate(ids, **sampling, **hooks):
                if token in self.stop_ids or count >= max_new_tokens:
                    return
                count += 1
                yield token

    def _prompt(self, messages: Messages, max_new_tokens: int) -> tuple[list[int], bool]:
        return encode_chat(self.tokenizer, messages, self.context_window, max_new_tokens)

    def _processor(self, messages: Messages) -> GroundedFacts | None:
        return self._grounder.processor([messages]) if self._grounder else None

    def generate(self, conversations: list[Messages], *, max_new_tokens: int) -> list[Generation]:
        """One reply a conversation, one after the other."""
        results = []
        for messages in conversations:
            ids, truncated = self._prompt(messages, max_new_tokens)
            start = time.perf_counter()
            tokens = list(self.complete(ids, max_new_tokens=max_new_tokens, processor=self._processor(messages)))
            text = self.tokenizer.decode(tokens, skip_special_tokens=True).strip()
            results.append(Generation(text, len(ids), len(tokens), time.perf_counter() - start, truncated))
        return results

    def stream(self, messages: Messages, *, max_new_tokens: int) -> Iterator[str]:
        """Yield the reply's text as it is generated (whole characters)."""
        ids, _ = self._prompt(messages, max_new_tokens)
        tokens: list[int] = []
        sent = ""
        for token in self.complete(ids, max_new_tokens=max_new_tokens, processor=self._processor(messages)):
            tokens.append(token)
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            if not text.endswith("\ufffd") and len(text) > len(sent):
                yield text[len(sent) :]
                sent = text


def _numpy_processor(processor: GroundedFacts):
    """`processor` (torch, batched) as llama-cpp's logits processor: all the ids so far and one row of logits."""

    def apply(input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        ids = torch.from_numpy(np.asarray(input_ids, dtype=np.int64))[None]
        return processor(ids, torch.from_numpy(np.array(scores, dtype=np.float32))[None])[0].numpy()

    return apply
