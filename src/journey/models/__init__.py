"""Model loading, adapters and generation backends (torch and transformers: imported on first use)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from journey import lazy_exports

if TYPE_CHECKING:
    from journey.models.backends import Backend
    from journey.workspace import ModelSettings

__all__ = [
    "Backend",
    "Generation",
    "OpenAIBackend",
    "TransformersBackend",
    "load_backend",
    "load_model",
    "resolve_base",
]
__getattr__ = lazy_exports(
    __name__,
    {
        "journey.models.backends": ["Backend", "Generation", "TransformersBackend"],
        "journey.models.openai_backend": ["OpenAIBackend"],
        "journey.models.loading": ["load_model", "resolve_base"],
    },
)

FINETUNED_SERVER_MODEL = "journey-finetuned"


def load_backend(
    settings: ModelSettings, *, base: str, adapter: Path | None = None, name: str, knowledge: bool = False
) -> Backend:
    """A backend for `base` (+ a PEFT adapter, or a fully fine-tuned model folder).

    `knowledge`: the set-up has knowledge on, which turns grounded facts on where `grounded_facts` is auto.
    """
    if settings.backend == "openai":
        return _openai_backend(settings, base=base, adapter=adapter, setup=name)
    grounded = knowledge if settings.grounded_facts == "auto" else settings.grounded_facts
    if settings.backend == "llamacpp":
        from journey.models.llamacpp import LlamaCppUnsupported, llamacpp_backend

        try:
            return llamacpp_backend(
                base, adapter, outtype=settings.gguf_outtype, name=name, temperature=settings.temperature,
                grounded=grounded,
            )
        except LlamaCppUnsupported as exc:
            logging.getLogger(__name__).warning("%s. Generating with transformers instead.", exc)
    if settings.backend == "onnx":
        from journey.models.onnx import OnnxUnsupported, onnx_backend

        try:
            precision, temperature = settings.onnx_precision, settings.temperature
            return onnx_backend(
                base, adapter, precision=precision, name=name, temperature=temperature, grounded=grounded
            )
        except OnnxUnsupported as exc:
            logging.getLogger(__name__).warning("%s Generating with transformers instead.", exc)
    import torch

    from journey.models.backends import TransformersBackend
    from journey.models.loading import load_model
    from journey.models.precision import choose_precision

    chosen = choose_precision(settings.dtype, "cpu", job="generation")  # the in-process backend runs on CPU
    logging.getLogger(__name__).info("Generating in %s", chosen, extra={"generation_precision": str(chosen)})
    dtype = chosen.dtype
    if adapter is not None and (adapter / "config.json").is_file():
        from journey.models.adapters import check_model_folder

        check_model_folder(adapter)  # one sentence naming the file, not a loader's traceback
        model, tokenizer = load_model(str(adapter), dtype=dtype)  # a full fine-tune is a model folder
    elif adapter is not None:
        from journey.models.adapters import attach_adapter

        # Merged into the weights (in float32, then cast): generation then runs the base model's ops only;
        # unmerged, the LoRA matmuls beside every target module cost SmolLM2 ~30% of the prefill's time
        # and ~18% of each decoding step's.
        model, tokenizer = load_model(base)
        model = attach_adapter(model, adapter, base=base).merge_and_unload().to(getattr(torch, dtype))
    else:
        model, tokenizer = load_model(base, dtype=dtype)
    return TransformersBackend(model, tokenizer, name=name, temperature=settings.temperature, grounded=grounded)


def _openai_backend(settings: ModelSettings, *, base: str, adapter: Path | None, setup: str) -> Backend:
    """The server's backend for `setup`, under the model name the server serves it as: its entry in
    openai_served_models, else FINETUNED_SERVER_MODEL for a fine-tuned set-up (vLLM serves the adapter
    with --lora-modules journey-finetuned=.journey/adapters/default), else openai_model or the base."""
    from journey.errors import UserError
    from journey.models.openai_backend import OpenAIBackend

    if not settings.openai_base_url:
        raise UserError("model.backend = 'openai' needs model.openai_base_url in journey.toml.")
    if settings.grounded_facts is True:
        logging.getLogger(__name__).warning("model.grounded_facts does nothing with an OpenAI-compatible server.")
    default = FINETUNED_SERVER_MODEL if adapter else (settings.openai_model or base)
    return OpenAIBackend(
        settings.openai_base_url,
        settings.openai_served_models.get(setup, default),
        api_key_env=settings.openai_api_key_env,
        temperature=settings.temperature,
        concurrency=settings.concurrency,
        timeout=settings.openai_timeout,
        max_retries=settings.openai_max_retries,
    )
