"""What a training command leaves behind, the same way for `journey train`, `journey finetune` and `journey merge`:
the model folder, written whole with its training-info file, and the run folder with its `run.json` summary.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journey.errors import UserError
from journey.io import atomic_directory, atomic_write_json
from journey.models.adapters import TRAINING_INFO
from journey.workspace import Workspace

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

RUN_SUMMARY = "run.json"
RETRY_TRAINING = "Free some disk space and run again with --resume: the training checkpoint is kept."


def save_model_folder(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase | None,
    folder: Path,
    info: dict[str, Any],
    *,
    retry: str,
) -> None:
    """Write `model` (a model, or a PEFT adapter), `tokenizer` (None for an adapter) and `info` as TRAINING_INFO.

    The folder is written beside `folder` and renamed into place, so a crash or a full disk never
    leaves half a model where a set-up loads it; a failed write is one UserError ending with `retry`.
    """
    try:
        with atomic_directory(folder) as tmp:
            model.save_pretrained(tmp)
            if tokenizer is not None:
                tokenizer.save_pretrained(tmp)
            atomic_write_json(tmp / TRAINING_INFO, info)
    except OSError as exc:
        raise UserError(
            f"Could not write {folder} ({exc.strerror or exc}); what was there before is unchanged. {retry}"
        ) from None


def new_run_dir(workspace: Workspace, command: str) -> Path:
    """`.journey/runs/<command>-<time>/`: where a training command's summary for users goes."""
    return workspace.runs_dir / time.strftime(f"{command}-%Y%m%d-%H%M%S")


def write_run_summary(run_dir: Path, kind: str, summary: dict[str, Any], *, copies: Iterable[Path]) -> None:
    """`run.json` (the run's summary for users) in `run_dir`, beside copies of the files in `copies` that exist.

    `kind` ("finetune", "train") leads the summary, as "evaluate" leads an evaluation run's: every run
    folder under .journey/runs/ says what it is the same way.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    for path in copies:
        if path.is_file():
            shutil.copy2(path, run_dir / path.name)
    atomic_write_json(run_dir / RUN_SUMMARY, {"kind": kind, **summary})
