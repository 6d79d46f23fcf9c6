"""Where a fine-tune or a merge may write: the guard on the output folder a user names.

It runs before anything heavy loads; the folder itself is written by `journey.training.output.save_model_folder`.
"""

from __future__ import annotations

from pathlib import Path

from journey.io import check_output_folder
from journey.models.adapters import TRAINING_INFO
from journey.workspace import Workspace


def check_output(workspace: Workspace, output: Path, *, force: bool, keep: tuple[Path, ...] = ()) -> None:
    """Refuse an output folder whose replacement would delete the workspace, `keep` or what journey did not write."""
    own = [workspace.root, workspace.knowledge_dir, workspace.root / "data", workspace.state_dir, *keep]
    check_output_folder(output, protected=own, marker=TRAINING_INFO, force=force)
