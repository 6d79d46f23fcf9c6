"""Save a fine-tuned adapter (or model) with what it was trained on; check one before loading it; attach
one to its base model. PEFT and transformers are imported where they are used: `journey merge`'s
checks and the output guard run before anything heavy loads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from journey.errors import UserError
from journey.io import atomic_directory, atomic_write_json, check_output_folder
from journey.workspace import Workspace

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

TRAINING_INFO = "journey_training.json"  # in every folder journey writes a model or adapter to
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
MODEL_WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def check_output(workspace: Workspace, output: Path, *, force: bool, keep: tuple[Path, ...] = ()) -> None:
    """Refuse an output folder whose replacement would delete the workspace, `keep` or what journey did not write."""
    own = [workspace.root, workspace.knowledge_dir, workspace.root / "data", workspace.state_dir, *keep]
    check_output_folder(output, protected=own, marker=TRAINING_INFO, force=force)


def save_trained(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, output: Path, info: dict) -> None:
    """Write a PEFT adapter — or, for a full fine-tune, a model folder with its tokenizer — and `info`.

    The folder is written beside `output` and renamed into place, so a crash or a full
    disk never leaves a half-written adapter where the fine-tuned set-ups load it.
    """
    from peft import PeftModel

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
