"""The freshness test: change one value in the database, then see which set-ups answer with the new value.

The change is made, the index is brought up to date incrementally (timed: that is
augmentation's whole maintenance cost for it), every set-up answers the probe
question, and the old value is put back and re-indexed — also when interrupted.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from journey.evaluate.facts import contains_fact
from journey.io import atomic_write_json
from journey.workspace import Workspace


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


def freshness_path(workspace: Workspace) -> Path:
    return workspace.runs_dir / "freshness.json"


def run_freshness(workspace: Workspace, probe: FreshnessProbe, setups: list[str]) -> dict[str, Any]:
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
            answers[setup] = {
                "answer": reply.answer,
                "handed_over": reply.handed_over,
                "new_value": contains_fact(reply.answer, probe.new_fact),
                "old_value": contains_fact(reply.answer, probe.old_fact),
            }
    finally:
        _set(engine, probe, probe.old_value)
        build_index(workspace, progress=False)
        engine.dispose()
    result = {
        "probe": asdict(probe),
        "reindex_seconds": report.seconds,
        "reindex": report.summary(),
        "answers": answers,
        "measured": time.time(),
    }
    atomic_write_json(freshness_path(workspace), result)
    return result


def load_freshness(workspace: Workspace) -> dict[str, Any] | None:
    path = freshness_path(workspace)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _set(engine, probe: FreshnessProbe, value: Any) -> None:
    quote = engine.dialect.identifier_preparer.quote
    sql = f"UPDATE {quote(probe.table)} SET {quote(probe.column)} = :value WHERE {quote(probe.key_column)} = :key"
    with engine.begin() as connection:
        connection.execute(text(sql), {"value": value, "key": probe.key})
