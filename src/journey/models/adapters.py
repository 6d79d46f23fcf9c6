"""Check a fine-tuned adapter (or model folder) before loading it, read what it was trained on, attach
one to its base model. PEFT and safetensors are imported where they are used: `journey merge`'s
checks run before anything heavy loads. Saving one is the trainers' side (`journey.training.output`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from journey.errors import UserError

if TYPE_CHECKING:
    from transformers import PreTrainedModel

TRAINING_INFO = "journey_training.json"  # in every folder journey writes a model or adapter to
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
MODEL_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def training_info(folder: Path) -> dict:
    """The `journey_training.json` of an adapter or model folder ({} when there is none)."""
    path = folder / TRAINING_INFO
    return _json_object(path) if path.is_file() else {}


def check_adapter(folder: Path) -> None:
    """One sentence naming the file when a LoRA adapter folder cannot load: its config or its weights."""
    if not (folder / ADAPTER_CONFIG).is_file():
        raise UserError(f"{folder} is not a LoRA adapter (no {ADAPTER_CONFIG}). Run `journey finetune` first.")
    if "peft_type" not in _json_object(folder / ADAPTER_CONFIG):
        raise UserError(f"{folder / ADAPTER_CONFIG} names no peft_type: it is not a PEFT adapter's config.")
    _check_weights(folder, ADAPTER_WEIGHTS)


def check_model_folder(folder: Path) -> None:
    """One sentence naming the file when a model folder (a full fine-tune) cannot load."""
    if "model_type" not in _json_object(folder / "config.json"):
        raise UserError(f"{folder / 'config.json'} names no model_type: it is not a transformers model's config.")
    _check_weights(folder, MODEL_WEIGHTS)


def _json_object(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} could not be read as JSON ({exc}).") from None
    if not isinstance(value, dict):
        raise UserError(f"{path} holds a JSON {type(value).__name__}, not an object.")
    return value


def _check_weights(folder: Path, names: tuple[str, ...]) -> None:
    """Some weights file is there, and no .safetensors file in the folder is truncated or damaged."""
    from safetensors import SafetensorError, safe_open

    if not any((folder / name).is_file() for name in names):
        raise UserError(f"{folder} has no weights ({' or '.join(names)}).")
    for path in sorted(folder.glob("*.safetensors")):
        try:
            with safe_open(str(path), framework="numpy"):  # reads the header only; checks the file covers it
                pass
        except (SafetensorError, OSError) as exc:
            raise UserError(f"{path} is damaged or truncated ({exc}): run `journey finetune` again.") from None


def attach_adapter(model: PreTrainedModel, adapter: Path, *, base: str) -> PreTrainedModel:
    """Wrap `model` with the LoRA adapter in `adapter` (a PEFT folder) for inference."""
    from peft import PeftModel

    check_adapter(adapter)
    trained_on = training_info(adapter).get("base")
    if trained_on and trained_on != base:
        raise UserError(
            f"The adapter in {adapter} was trained on base model '{trained_on}', "
            f"but this workspace's base is '{base}'. Re-run `journey finetune` or change model.base."
        )
    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter))
    except (KeyError, ValueError, RuntimeError) as exc:  # an unknown PEFT type, or weights of another shape
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"The adapter in {adapter} does not load onto '{base}' ({reason}).") from None
    peft_model.eval()
    return peft_model
