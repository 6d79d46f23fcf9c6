"""Where a fine-tune writes: the output guard, and the adapter (or model) saved with what it was trained on.

PEFT is imported where it is used, so the output guard runs before anything heavy loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from journey.errors import UserError
from journey.io import atomic_directory, atomic_write_json, check_output_folder
from journey.models.adapters import TRAINING_INFO
from journey.workspace import Workspace

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase


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
