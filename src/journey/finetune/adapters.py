"""Attach a trained PEFT adapter to its base model, refusing one trained on another base."""

from __future__ import annotations

import json
from pathlib import Path

from peft import PeftModel
from transformers import PreTrainedModel

from journey.errors import UserError

TRAINING_INFO = "journey_training.json"


def attach_adapter(model: PreTrainedModel, adapter: Path, *, base: str) -> PreTrainedModel:
    """Wrap `model` with the LoRA adapter in `adapter` (a PEFT folder) for inference."""
    info_path = adapter / TRAINING_INFO
    if info_path.is_file():
        trained_on = json.loads(info_path.read_text(encoding="utf-8")).get("base")
        if trained_on and trained_on != base:
            raise UserError(
                f"The adapter in {adapter} was trained on base model '{trained_on}', "
                f"but this workspace's base is '{base}'. Re-run `journey finetune` or change model.base."
            )
    peft_model = PeftModel.from_pretrained(model, str(adapter))
    peft_model.eval()
    return peft_model
