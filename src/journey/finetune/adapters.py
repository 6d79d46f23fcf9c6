"""Save a fine-tuned adapter (or model) with what it was trained on; attach one to its base model."""

from __future__ import annotations

import json
from pathlib import Path

from peft import PeftModel
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from journey.errors import UserError
from journey.io import atomic_directory, atomic_write_json

TRAINING_INFO = "journey_training.json"


def save_trained(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, output: Path, info: dict) -> None:
    """Write a PEFT adapter — or, for a full fine-tune, a model folder with its tokenizer — and `info`.

    The folder is written beside `output` and renamed into place, so a crash or a full
    disk never leaves a half-written adapter where the fine-tuned set-ups load it.
    """
    try:
        with atomic_directory(output) as tmp:
            model.save_pretrained(tmp)
            if not isinstance(model, PeftModel):
                tokenizer.save_pretrained(tmp)
            atomic_write_json(tmp / TRAINING_INFO, info)
    except OSError as exc:
        raise UserError(
            f"Could not write {output} ({exc.strerror or exc}); what was there before is unchanged. "
            "Free some disk space and run again with --resume: the training checkpoint is kept."
        ) from None


def training_info(folder: Path) -> dict:
    """The `journey_training.json` of an adapter or model folder ({} when there is none)."""
    path = folder / TRAINING_INFO
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def attach_adapter(model: PreTrainedModel, adapter: Path, *, base: str) -> PreTrainedModel:
    """Wrap `model` with the LoRA adapter in `adapter` (a PEFT folder) for inference."""
    if not (adapter / "adapter_config.json").is_file():
        raise UserError(f"{adapter} is not a LoRA adapter (no adapter_config.json). Run `journey finetune` first.")
    trained_on = training_info(adapter).get("base")
    if trained_on and trained_on != base:
        raise UserError(
            f"The adapter in {adapter} was trained on base model '{trained_on}', "
            f"but this workspace's base is '{base}'. Re-run `journey finetune` or change model.base."
        )
    peft_model = PeftModel.from_pretrained(model, str(adapter))
    peft_model.eval()
    return peft_model
