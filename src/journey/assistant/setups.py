"""The five set-ups (DESIGN.md): which model and whether knowledge is on — nothing else differs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from journey.errors import UserError
from journey.workspace import SETUPS, Workspace

ADAPTER_NAME = "default"
SCRATCH_NAME = "scratch"


@dataclass(frozen=True)
class SetupSpec:
    """What a set-up is made of."""

    name: str
    base: str
    adapter: Path | None
    knowledge: bool


def adapter_path(workspace: Workspace) -> Path:
    """Where `journey finetune` writes the adapter the fine-tuned set-ups use."""
    return workspace.adapters_dir / ADAPTER_NAME


def scratch_path(workspace: Workspace) -> Path:
    """Where `journey train` writes the model the scratch set-up uses."""
    return workspace.models_dir / SCRATCH_NAME


def resolve_setup(workspace: Workspace, name: str) -> SetupSpec:
    """The parts of set-up `name`; a clear error names the command that makes a missing part."""
    if name not in SETUPS:
        raise UserError(f"Unknown set-up '{name}'. Choose one of: {', '.join(SETUPS)}.")
    base = workspace.settings.model.base
    knowledge = name.endswith("augmented")
    if name == "scratch":
        folder = scratch_path(workspace)
        if not (folder / "config.json").is_file():
            raise UserError("The scratch set-up has no model yet: run `journey train` first.")
        return SetupSpec(name, str(folder), None, False)
    adapter = None
    if name.startswith("finetuned"):
        adapter = adapter_path(workspace)
        if not (adapter / "adapter_config.json").is_file() and not (adapter / "config.json").is_file():
            raise UserError(f"The {name} set-up has no adapter yet: run `journey finetune` first.")
    if knowledge and not workspace.index_dir.exists():
        raise UserError(f"The {name} set-up needs the knowledge index: run `journey index` first.")
    return SetupSpec(name, base, adapter, knowledge)


def available_setups(workspace: Workspace) -> list[str]:
    """The set-ups whose parts exist in this workspace."""
    available = []
    for name in SETUPS:
        try:
            resolve_setup(workspace, name)
        except UserError:
            continue
        available.append(name)
    return available
