"""Evaluation run folders: `.journey/runs/<id>/` with `run.json`, `answers.jsonl` and `summary.json`.

`answers.jsonl` holds one line per (question, set-up). Lines are appended a batch
at a time and flushed to disk, so an interrupted run keeps every finished batch;
a torn last line is ignored on reading. Each line carries the fingerprint of the
set-up that produced it, so answers are reused only while the model, adapter,
index and settings they came from are unchanged.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from journey.assistant.records import ReplyRecord
from journey.errors import UserError
from journey.io import JsonlProblem, atomic_write_json, read_jsonl
from journey.workspace import Workspace

if TYPE_CHECKING:  # the pipeline loads torch; `journey cost` and `report` read runs without it
    from journey.assistant.pipeline import Reply

KIND = "evaluate"
MANIFEST = "run.json"
ANSWERS = "answers.jsonl"
SUMMARY = "summary.json"
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class AnswerRecord(ReplyRecord):
    """What one set-up answered to one question, and what it cost: the reply's record, raw (passage texts,
    lookup rows), with the question's id, the set-up's fingerprint and the answer's share of its batch."""

    id: str
    setup: str
    fingerprint: str
    question: str
    answer: str
    wall_s: float = 0.0  # this answer's share of the batch's wall-clock time

    @classmethod
    def answered(cls, item_id: str, fingerprint: str, reply: Reply, wall_s: float) -> AnswerRecord:
        return cls(
            id=item_id,
            setup=reply.setup,
            fingerprint=fingerprint,
            question=reply.question,
            answer=reply.answer,
            wall_s=wall_s,
            **dict(ReplyRecord.from_reply(reply, raw=True)),
        )


@dataclass(frozen=True)
class Run:
    """One evaluation run folder."""

    folder: Path

    @property
    def id(self) -> str:
        return self.folder.name

    @property
    def answers_path(self) -> Path:
        return self.folder / ANSWERS

    @property
    def summary_path(self) -> Path:
        return self.folder / SUMMARY

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))

    def update_manifest(self, **fields: Any) -> None:
        atomic_write_json(self.folder / MANIFEST, {**self.manifest(), **fields})

    def append(self, records: list[AnswerRecord]) -> None:
        """Append a batch of answers in one write, flushed to disk."""
        append_lines(self.answers_path, [record.model_dump_json() for record in records])

    def records(self) -> list[AnswerRecord]:
        """Every intact answer line; for a (question, set-up) answered twice, the later line wins."""
        if not self.answers_path.is_file():
            return []
        latest: dict[tuple[str, str], AnswerRecord] = {}
        for entry in read_jsonl(self.answers_path):
            if isinstance(entry, JsonlProblem):
                continue  # a line torn by an interruption; its question is simply answered again
            try:
                record = AnswerRecord.model_validate(entry[1])
            except ValidationError:
                continue  # not an answer line (edited by hand?): answered again too
            latest[(record.id, record.setup)] = record
        return list(latest.values())


def append_lines(path: Path, lines: list[str]) -> None:
    """Append JSON lines in one write and flush them to disk, so a crash loses at most a torn last line.

    A torn line left by an earlier crash is ended first, so it cannot swallow the next one.
    """
    text = "".join(line + "\n" for line in lines)
    with path.open("a+b") as handle:
        if handle.tell() > 0:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                text = "\n" + text
        handle.write(text.encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())


def create_run(workspace: Workspace, run_id: str | None = None, **fields: Any) -> Run:
    """A new run folder (id: the given one, else the current time)."""
    run_id = run_id or time.strftime("eval-%Y%m%d-%H%M%S")
    reserved = workspace.stage_records_dir.name  # the stages' records live beside the runs
    if not RUN_ID.fullmatch(run_id) or run_id == reserved:
        raise UserError(f"Run id {run_id!r}: use letters, digits, '.', '_' and '-' only (and not {reserved!r}).")
    run = Run(workspace.runs_dir / run_id)
    run.folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run.folder / MANIFEST, {"kind": KIND, "id": run_id, "created": time.time(), **fields})
    return run


def evaluation_runs(workspace: Workspace) -> list[Run]:
    """Evaluation runs of the workspace, oldest first."""
    if not workspace.runs_dir.is_dir():
        return []
    runs = []
    for folder in workspace.runs_dir.iterdir():
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if manifest.get("kind") == KIND:
            runs.append((manifest.get("created", 0.0), Run(folder)))
    return [run for _, run in sorted(runs, key=lambda pair: pair[0])]


def find_run(workspace: Workspace, run_id: str | None) -> Run:
    """The named evaluation run, or the latest one."""
    runs = evaluation_runs(workspace)
    if run_id is None:
        if not runs:
            raise UserError(f"No evaluation run in {workspace.runs_dir}: run `journey evaluate` first.")
        return runs[-1]
    for run in runs:
        if run.id == run_id:
            return run
    known = ", ".join(run.id for run in runs[-5:]) or "none"
    raise UserError(f"No evaluation run '{run_id}' in {workspace.runs_dir} (latest: {known}).")
