"""`journey export`: a set-up's model as one GGUF file (llama.cpp, Ollama, LM Studio) and an Ollama Modelfile.

A fine-tuned set-up's LoRA adapter is first merged into its base in memory (`journey merge`'s `merged_model`);
the file mirrors the embedded base's own GGUF (its general.* names, its pre-tokenizer) when the base is the
embedded one. Every check runs before the model loads; each file is written under a temporary name and renamed.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from journey.assistant.prompts import system_prompt
from journey.assistant.setups import SetupSpec, resolve_setup
from journey.errors import UserError
from journey.io import atomic_write_text
from journey.workspace import Workspace

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from journey.models.export import OutType, SourceInfo

MODELFILE = "Modelfile"


@dataclass
class Export:
    """What `journey export` wrote, and the model it wrote it from (kept for the parity check)."""

    setup: SetupSpec
    gguf_path: Path
    modelfile_path: Path
    outtype: str
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    seconds: float

    def summary(self) -> str:
        size = self.gguf_path.stat().st_size / 2**20
        return (
            f"Exported {self.setup.name} to {self.gguf_path} ({size:,.1f} MiB, {self.outtype}) "
            f"and {self.modelfile_path} in {self.seconds:.1f} s."
        )


def export_paths(workspace: Workspace, setup: str, out: Path | None, outtype: str) -> tuple[Path, Path]:
    """The GGUF file and the Modelfile an export of `setup` writes: in `out`, default .journey/exports/<setup>/."""
    from gguf.utility import naming_convention  # llama.cpp's file naming: <name>-<finetune>-<type>.gguf

    folder = out or workspace.state_dir / "exports" / setup
    stem = naming_convention(_slug(workspace.settings.project.name), None, _slug(setup), None, None, outtype)
    return folder / f"{stem}.gguf", folder / MODELFILE


def export(
    workspace: Workspace,
    setup: str = "finetuned",
    *,
    out: Path | None = None,
    outtype: OutType = "f16",
    force: bool = False,
) -> Export:
    """Write `setup`'s model as GGUF with a Modelfile beside it (pointing at the latest export in that folder).

    An existing GGUF file, or a Modelfile journey did not write, is replaced only with `force`.
    """
    spec = resolve_setup(workspace, setup)  # no adapter yet: one sentence naming `journey finetune`
    gguf_path, modelfile_path = export_paths(workspace, setup, out, outtype)
    if gguf_path.parent.exists() and not gguf_path.parent.is_dir():
        raise UserError(f"{gguf_path.parent} is a file, not a folder: choose a folder for --out.")
    from journey.models.export import MODELFILE_HEADER, modelfile, write_gguf

    if gguf_path.exists() and not force:
        raise UserError(f"{gguf_path} already exists: pass --force to replace it.")
    if modelfile_path.exists() and not force and not _starts_with(modelfile_path, MODELFILE_HEADER):
        raise UserError(f"{modelfile_path} was not written by journey: pass --force to replace it.")
    from journey.finetune.merge import merged_model  # torch and transformers: only once every check passed

    start = time.perf_counter()
    model, tokenizer = merged_model(spec.base, spec.adapter)
    name = f"{workspace.settings.project.name} {setup}"
    write_gguf(model, tokenizer, gguf_path, outtype=outtype, name=name, finetune=setup, source=_source(workspace, spec))
    text = modelfile(model, tokenizer, gguf_path.name, system=system_prompt(workspace.settings))
    atomic_write_text(modelfile_path, text)
    return Export(spec, gguf_path, modelfile_path, outtype, model, tokenizer, time.perf_counter() - start)


def _source(workspace: Workspace, spec: SetupSpec) -> SourceInfo | None:
    """The embedded base's GGUF metadata when the set-up's model grew from it (not a model trained from scratch)."""
    from journey.models.export import SourceInfo
    from journey.models.loading import EMBEDDED, embedded_gguf_path

    base = workspace.settings.model.base
    if spec.base != base or base not in EMBEDDED:
        return None
    return SourceInfo.from_gguf(embedded_gguf_path(EMBEDDED[base]))


def _starts_with(path: Path, header: str) -> bool:
    with path.open(encoding="utf-8", errors="replace") as handle:
        return handle.readline().rstrip("\n") == header


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", text).strip("-.") or "model"
