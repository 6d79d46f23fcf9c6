"""The fast in-process backend: ONNX Runtime GenAI (`model.backend = "onnx"`).

Its model builder turns a local Hugging Face folder into an ONNX model offline (int4 weights by
default: `model.onnx_precision`). A fine-tuned adapter is merged into its base first. Each conversion
is cached under the journey cache, keyed by a digest of the base's files, the adapter's files, the
precision and the runtime's version, so a changed adapter is converted again and a stale model is
never used. A model the builder cannot convert is said in one sentence (`OnnxUnsupported`); the caller
falls back to transformers.

Grounded generation (models/grounding.py) runs here too: the loop decodes token by token and passes
each step's logits (`Generator.get_logits`) through the same processor before `set_logits`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import onnxruntime_genai as og
import torch
from transformers import PreTrainedTokenizerBase

from journey.errors import UserError
from journey.io import atomic_directory
from journey.models.backends import Generation, encode_chat
from journey.models.conversion import architecture, digest
from journey.models.grounding import GroundedFacts, Grounder
from journey.models.loading import cache_root, load_model, load_tokenizer, resolve_base
from journey.models.messages import Messages
from journey.models.prefix_cache import MIN_TOKENS, shared_start

log = logging.getLogger(__name__)

MARKER = "journey_onnx.json"  # written last into a finished conversion: a folder without it is unfinished
TOP_P = 0.95
GENERATOR_LENGTH = 2048  # tokens a kept generator's key and value buffers hold, so the next prompts fit


class OnnxUnsupported(UserError):
    """The model builder cannot convert this model (its architecture, usually)."""


def converted_model(base_folder: Path, adapter: Path | None, *, precision: str, base: str | None = None) -> Path:
    """The ONNX model for `base_folder` (+ `adapter` merged), converted once and cached; `base`: the name the
    adapter's base was given as (an embedded name, resolved to `base_folder`), if not the folder itself."""
    key = _digest(base_folder, adapter, precision)
    target = cache_root() / "onnx" / f"{base_folder.name}-{precision}-{key[:16]}"
    if (target / MARKER).is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="journey-onnx-") as scratch, atomic_directory(target) as built:
        source = (
            base_folder
            if adapter is None
            else _merged(base_folder, adapter, Path(scratch) / "merged", base or str(base_folder))
        )
        log.info("Converting %s to ONNX (%s) once; cached at %s", source.name, precision, target)
        _build(source, built, precision, Path(scratch) / "cache")
        (built / MARKER).write_text(json.dumps({"digest": key, "precision": precision}), encoding="utf-8")
    return target


def onnx_backend(
    base: str, adapter: Path | None, *, precision: str, name: str, temperature: float, grounded: bool = False
) -> OnnxBackend:
    """The ONNX backend for a set-up: `base` (+ a LoRA `adapter`, or a fully fine-tuned model folder);
    `grounded`: facts kept to the prompt's (models/grounding.py)."""
    if adapter is not None and (adapter / "config.json").is_file():
        base, adapter = str(adapter), None  # a full fine-tune is a model folder of its own
    folder = Path(resolve_base(base))
    if not folder.is_dir():  # a Hugging Face id: its local snapshot (downloaded unless HF_HUB_OFFLINE is set)
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(base))
    converted = converted_model(folder, adapter, precision=precision, base=base)
    threads = torch_threads()
    log.info("ONNX Runtime GenAI: %s, %d intra-op threads", converted.name, threads)
    tokenizer = load_tokenizer(str(folder))
    backend = OnnxBackend(converted, tokenizer, name=name, temperature=temperature, threads=threads, grounded=grounded)
    try:  # some shapes convert but do not run (e.g. attention heads not a multiple of 16 wide)
        probe, _ = encode_chat(backend.tokenizer, [{"role": "user", "content": "Hello"}], backend.context_window, 1)
        next(backend.complete(probe, max_new_tokens=1), None)
    except RuntimeError as exc:
        reason = str(exc).split("Status Message:")[-1].strip()
        raise OnnxUnsupported(
            f"ONNX Runtime GenAI cannot run the {architecture(folder)} model {folder} ({reason})."
        ) from None
    return backend


def torch_threads() -> int:
    """The threads the process gave torch (journey serve decides them: models/threads.py), for ONNX Runtime too."""
    return torch.get_num_threads()


def _extra_options(precision: str) -> list[str]:
    """The builder's extra options: logits of the last prompt token only (the prefill's LM head over every
    prompt token is a vocabulary-wide matmul per token that nothing reads); for int4, int8 activations."""
    options = ["prune_lm_head=true"]
    if precision == "int4":
        options.append("int4_accuracy_level=4")  # int8 activations: the accurate CPU kernel
    return options


def _build(source: Path, output: Path, precision: str, cache: Path) -> None:
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(source), "-o", str(output)]
    command += ["-p", precision, "-e", "cpu", "-c", str(cache), "--extra_options", *_extra_options(precision)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode == 0:
        return
    if "not currently supported" in done.stderr + done.stdout:
        raise OnnxUnsupported(f"ONNX Runtime GenAI cannot convert {architecture(source)} models ({source}).")
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    raise UserError(f"Converting {source} to ONNX failed: {tail[0]}")


def _merged(base_folder: Path, adapter: Path, folder: Path, base: str) -> Path:
    """`base_folder` (named `base`) with the LoRA `adapter` merged in, saved to `folder`."""
    from journey.models.adapters import attach_adapter

    model, tokenizer = load_model(str(base_folder))
    attach_adapter(model, adapter, base=base).merge_and_unload().save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _digest(base_folder: Path, adapter: Path | None, precision: str) -> str:
    return digest([base_folder, adapter], [precision, og.__version__, *_extra_options(precision)])


class OnnxBackend:
    """Generate with ONNX Runtime GenAI; the prompt is built by the Hugging Face tokenizer's chat template."""

    def __init__(
        self,
        folder: Path,
        tokenizer: PreTrainedTokenizerBase,
        *,
        name: str = "onnx",
        temperature: float = 0.0,
        threads: int | None = None,
        grounded: bool = False,
    ) -> None:
        config = og.Config(str(folder))
        if threads:
            config.overlay(json.dumps({"model": {"decoder": {"session_options": {"intra_op_num_threads": threads}}}}))
        self.model = og.Model(config)
        self.tokenizer = tokenizer
        self.name = name
        self.temperature = temperature
        genai = json.loads((folder / "genai_config.json").read_text(encoding="utf-8"))["model"]
        self.context_window = int(genai["context_length"])
        self.genai_vocab = int(genai["vocab_size"])
        self.stop_ids = set(_ids(genai.get("eos_token_id"))) | set(_ids(genai.get("pad_token_id")))
        self.grounded = grounded
        self._grounder = Grounder(tokenizer, self.genai_vocab) if grounded else None
        self._lock = threading.Lock()
        # Prompt reuse (models/prefix_cache.py): the generator of the last reply is kept with the tokens
        # whose keys and values it holds; the next prompt rewinds it to the start they share.
        self._generator: og.Generator | None = None
        self._generator_length = 0
        self._held: list[int] = []

    def grounding(self, conversations: list[Messages]) -> GroundedFacts | None:
        """The processor that keeps each row's facts to its own conversation's, when grounding is on."""
        return self._grounder.processor(conversations) if self._grounder else None

    def complete(self, ids: list[int], *, max_new_tokens: int, processor: GroundedFacts | None = None) -> Iterator[int]:
        """Yield the new token ids after the prompt `ids`, up to `max_new_tokens` or an end-of-turn token;
        each step's logits pass through `processor` first."""
        length = min(len(ids) + max_new_tokens, self.context_window)
        with self._lock:
            generator = self._generator_for(ids, length)
            sequence = list(ids)
            try:
                while len(sequence) < length and not generator.is_done():
                    if processor is not None:
                        logits = torch.from_numpy(generator.get_logits()[:, -1, :].copy())
                        processed = processor(torch.tensor([sequence]), logits)
                        generator.set_logits(processed.numpy()[:, None, :])
                    generator.generate_next_token()
                    token = int(generator.get_next_tokens()[0])
                    sequence.append(token)
                    if token in self.stop_ids:
                        return
                    yield token
            finally:
                self._held = sequence[:-1]  # the last token's keys and values are not computed yet

    def _generator_for(self, ids: list[int], length: int) -> og.Generator:
        """The kept generator rewound to the start `ids` shares with what it holds, the rest appended; or a
        new one when they share too little or it is too short for `length` tokens (the caller holds the lock)."""
        shared = shared_start(self._held, ids)
        self._held = []  # until the caller says what the generator holds
        if self._generator is not None and shared >= MIN_TOKENS and length <= self._generator_length:
            self._generator.rewind_to(shared)
            self._generator.append_tokens(ids[shared:])
            return self._generator
        params = og.GeneratorParams(self.model)
        self._generator_length = min(max(length, GENERATOR_LENGTH), self.context_window)
        search = {"max_length": self._generator_length, "batch_size": 1}
        if self.temperature > 0:
            search |= {"do_sample": True, "temperature": self.temperature, "top_p": TOP_P, "top_k": 0}
        else:
            search |= {"do_sample": False}
        params.set_search_options(**search)
        self._generator = None  # its key and value buffers go before the new one's are allocated
        self._generator = og.Generator(self.model, params)
        self._generator.append_tokens(ids)
        return self._generator

    def generate(self, conversations: list[Messages], *, max_new_tokens: int) -> list[Generation]:
        """One reply a conversation, one after the other (the runtime is fast enough unbatched here)."""
        results = []
        for messages in conversations:
            ids, truncated = encode_chat(self.tokenizer, messages, self.context_window, max_new_tokens)
            start = time.perf_counter()
            tokens = list(self.complete(ids, max_new_tokens=max_new_tokens, processor=self.grounding([messages])))
            text = self.tokenizer.decode(tokens, skip_special_tokens=True).strip()
            results.append(Generation(text, len(ids), len(tokens), time.perf_counter() - start, truncated))
        return results

    def stream(self, messages: Messages, *, max_new_tokens: int) -> Iterator[str]:
        """Yield the reply's text as it is generated (whole characters: a piece ends where decoding is stable)."""
        ids, _ = encode_chat(self.tokenizer, messages, self.context_window, max_new_tokens)
        tokens: list[int] = []
        sent = ""
        for token in self.complete(ids, max_new_tokens=max_new_tokens, processor=self.grounding([messages])):
            tokens.append(token)
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            if not text.endswith("\ufffd") and len(text) > len(sent):  # an unfinished UTF-8 sequence waits
                yield text[len(sent) :]
                sent = text


def _ids(value: int | list[int] | None) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)
