"""The freshness test: change one value in the database, then see which set-ups answer with the new value.

The change is made, the index is brought up to date incrementally (timed: that is
augmentation's whole maintenance cost for it), every set-up answers the probe
question, and the old value is put back and re-indexed — also when interrupted.
What was measured is one typed `FreshnessResult`, kept in `.journey/runs/freshness.json` for
the report and the demo (docs/design.md: stages hand each other typed records).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import create_engine, text

from journey.facts import contains_fact
from journey.io import atomic_write_text
from journey.workspace import Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FreshnessProbe:
    """One value to change (`table.column` of the row where `key_column` = `key`) and the question that needs it."""

    database: str  # a name under [knowledge.databases]
    table: str
    key_column: str
    key: str
    column: str
    old_value: Any
    new_value: Any
    question: str
    old_fact: str  # how the old value reads in an answer
    new_fact: str


class FreshnessAnswer(BaseModel):
    """What one set-up answered to the probe question, and which value the answer carries."""

    answer: str
    handed_over: bool
    new_value: bool  # the answer contains the probe's new_fact
    old_value: bool  # … its old_fact

    @property
    def verdict(self) -> str:
        if self.new_value:
            return "new value"
        if self.old_value:
            return "old value"
        return "neither value" + (" (handed over)" if self.handed_over else "")


class FreshnessResult(BaseModel):
    """One freshness test: the change, what re-indexing it took, and every set-up's answer."""

    probe: FreshnessProbe
    reindex_seconds: float
    reindex: str = ""  # IndexReport.summary() of the re-index after the change
    answers: dict[str, FreshnessAnswer]  # by set-up name
    measured: float = 0.0  # time.time() when finished


def freshness_path(workspace: Workspace) -> Path:
    return workspace.runs_dir / "freshness.json"


def run_freshness(workspace: Workspace, probe: FreshnessProbe, setups: list[str]) -> FreshnessResult:
    """Apply the change, re-index, ask every set-up, restore; returns (and stores) what each answered."""
    from journey.assistant import load_assistant
    from journey.knowledge import build_index

    engine = create_engine(workspace.database_url(probe.database))
    _set(engine, probe, probe.new_value)
    try:
        report = build_index(workspace, progress=False)
        answers = {}
        for setup in setups:
            reply = load_assistant(workspace, setup).answer(probe.question)
            answers[setup] = FreshnessAnswer(
                answer=reply.answer,
                handed_over=reply.handed_over,
                new_value=contains_fact(reply.answer, probe.new_fact),
                old_value=contains_fact(reply.answer, probe.old_fact),
            )
    finally:
        _set(engine, probe, probe.old_value)
        build_index(workspace, progress=False)
        engine.dispose()
    result = FreshnessResult(
        probe=probe, reindex_seconds=report.seconds, reindex=report.summary(), answers=answers, measured=time.time()
    )
    atomic_write_text(freshness_path(workspace), result.model_dump_json(indent=2) + "\n")
    return result


def load_freshness(workspace: Workspace) -> FreshnessResult | None:
    """The last freshness test; None when it never ran or its file cannot be read (then: not measured)."""
    path = freshness_path(workspace)
    if not path.is_file():
        return None
    try:
        return FreshnessResult.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError) as exc:
        log.warning("Ignoring %s: not a freshness result (%s)", path, str(exc).splitlines()[0])
        return None


def _set(engine, probe: FreshnessProbe, value: Any) -> None:
    quote = engine.dialect.identifier_preparer.quote
    sql = f"UPDATE {quote(probe.table)} SET {quote(probe.column)} = :value WHERE {quote(probe.key_column)} = :key"
    with engine.begin() as connection:
        connection.execute(text(sql), {"value": value, "key": probe.key})
