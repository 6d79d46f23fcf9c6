"""A set-up's parts in this workspace: which model folder, which adapter, whether knowledge is on.

What a set-up *is* comes from the registry (journey/setups.py, docs/design.md); this
module only finds its parts on disk and names the command that makes a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from journey.errors import UserError
from journey.setups import setup_def, setup_names
from journey.workspace import Workspace


@dataclass(frozen=True)
class SetupSpec:
    """What a set-up is made of."""

    name: str
    base: str
    adapter: Path | None
    knowledge: bool


def resolve_setup(workspace: Workspace, name: str) -> SetupSpec:
    """The parts of set-up `name`; a clear error names the command that makes a missing part."""
    row = setup_def(name)
    base, adapter = workspace.settings.model.base, None
    if row.model == "scratch":
        base = str(workspace.scratch_model_dir)
        if not (workspace.scratch_model_dir / "config.json").is_file():
            raise UserError(f"The {name} set-up has no model yet: run `journey train` first.")
    elif row.model == "finetuned":
        adapter = workspace.adapter_dir
        if not (adapter / "adapter_config.json").is_file() and not (adapter / "config.json").is_file():
            raise UserError(f"The {name} set-up has no adapter yet: run `journey finetune` first.")
    elif row.model == "preference":
        adapter = workspace.preference_adapter_dir
        if not (adapter / "adapter_config.json").is_file():
            raise UserError(f"The {name} set-up has no adapter yet: run `journey finetune --method dpo` (or kto).")
    if row.knowledge and not workspace.index_dir.exists():
        raise UserError(f"The {name} set-up needs the knowledge index: run `journey index` first.")
    return SetupSpec(name, base, adapter, row.knowledge)


def available_setups(workspace: Workspace) -> list[str]:
    """The set-ups whose parts exist in this workspace."""
    available = []
    for name in setup_names():
        try:
            resolve_setup(workspace, name)
        except UserError:
            continue
        available.append(name)
    return available
