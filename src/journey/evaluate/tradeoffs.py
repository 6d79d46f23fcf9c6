"""The seed's qualitative comparison (data needed, maintenance, fresh knowledge), filled from measurements."""

from __future__ import annotations

from journey.evaluate.cost import stage_dollars
from journey.evaluate.freshness import FreshnessResult
from journey.evaluate.tables import TextTable, dollars, seconds
from journey.io import JsonlProblem, read_jsonl, visible_files
from journey.knowledge.documents import SUFFIXES
from journey.records import StageRecord
from journey.setups import Stage, demonstrating
from journey.workspace import Workspace

COLUMNS: dict[Stage, str] = {"train": "training (scratch)", "finetune": "fine-tuning", "index": "augmentation"}


def tradeoffs_table(
    workspace: Workspace, stages: dict[Stage, StageRecord], freshness: FreshnessResult | None
) -> TextTable:
    """Rows: data needed, compute here, what an update takes, whether a database change shows up."""
    table = TextTable("Training vs fine-tuning vs augmentation, measured here", ["", *COLUMNS.values()])
    table.rows.append(["data needed (this workspace)", _corpus(workspace), _tickets(workspace), _knowledge(workspace)])
    table.rows.append(["compute here", *(_compute(workspace, stages.get(stage)) for stage in COLUMNS)])
    table.rows.append(
        [
            "updating to new information",
            _redo("re-train", stages.get("train")),
            _redo("re-fine-tune", stages.get("finetune")),
            f"incremental re-index: {seconds(freshness.reindex_seconds)}; live lookups: nothing to do"
            if freshness is not None
            else "incremental re-index (not measured)",
        ]
    )
    table.rows.append(["answers a changed database value", *(_fresh(freshness, demonstrating(s)) for s in COLUMNS)])
    if freshness is not None:
        probe = freshness.probe
        table.notes.append(
            f"Freshness test: {probe.table}.{probe.column} of {probe.key} changed from {probe.old_fact} "
            f'to {probe.new_fact}, then asked: "{probe.question}"'
        )
    return table


def _compute(workspace: Workspace, record: StageRecord | None) -> str:
    if record is None:
        return "did not run"
    return f"{seconds(record.seconds)}, {dollars(stage_dollars(workspace, record))} ({record.hardware})"


def _redo(verb: str, record: StageRecord | None) -> str:
    return f"{verb}: {seconds(record.seconds)} again" if record else f"{verb} (not measured)"


def _fresh(freshness: FreshnessResult | None, setups: tuple[str, ...]) -> str:
    if freshness is None:
        return "not tested"
    cells = [f"{setup}: {freshness.answers[setup].verdict}" for setup in setups if setup in freshness.answers]
    return "; ".join(cells) or "not tested"


def _corpus(workspace: Workspace) -> str:
    files = visible_files(workspace.corpus_dir, "*.txt")  # what journey train reads
    size = sum(p.stat().st_size for p in files)
    return f"{len(files)} corpus file(s), {size / 1e6:.1f} MB of text" if files else "no corpus"


def _tickets(workspace: Workspace) -> str:
    if not workspace.tickets_path.is_file():
        return "no tickets"
    count = sum(not isinstance(entry, JsonlProblem) for entry in read_jsonl(workspace.tickets_path))
    return f"{count} support conversations"


def _knowledge(workspace: Workspace) -> str:
    documents = sum(p.suffix.lower() in SUFFIXES for p in visible_files(workspace.knowledge_dir))  # what is indexed
    settings = workspace.settings.knowledge
    return f"{documents} document(s), {len(settings.tables)} table source(s), {len(settings.lookups)} live lookup(s)"
