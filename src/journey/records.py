"""Stage records: what each one-off stage (train, finetune, index) measured here, one typed contract for all.

`journey train`, `journey finetune` and `journey index` each write their `StageRecord` when
they finish, to `.journey/runs/stages/<stage>.json` (`Workspace.stage_records_dir`); the
latest run of a stage replaces the one before. The cost tables, the report and the demo
read them back with `stage_records` and nothing else: a training run's `run.json` is that
run's summary for users, not an input to another step (docs/design.md: "Stages hand each
other typed records, never bare dicts").
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ValidationError

from journey.io import atomic_write_json
from journey.setups import Stage
from journey.workspace import Workspace

log = logging.getLogger(__name__)

STAGES: tuple[Stage, ...] = ("train", "finetune", "index")


class StageRecord(BaseModel):
    """One run of a stage, as measured on this machine."""

    kind: Literal["stage"] = "stage"  # what the file is, beside the other records under .journey/runs/
    stage: Stage
    seconds: float
    hardware: str  # a key of cost.prices_per_hour
    tokens: int | None = None  # tokens processed (trained on, or embedded)
    parameters: int | None = None
    flops: float | None = None  # when the stage counted them itself
    detail: str = ""  # one line for the cost table
    budget_limited: bool = False  # a training stage stopped early to stay within its time budget
    run: str | None = None  # the run folder under .journey/runs/ with the stage's own summary, if any
    settings: dict[str, Any] = {}  # what the stage was run with, to tell whether a later run can reuse it
    recorded: float = 0.0  # time.time() when written

    @property
    def estimated_flops(self) -> float | None:
        """The recorded FLOPs, else 6·N·D for training stages and 2·N·D for embedding."""
        if self.flops is not None:
            return self.flops
        if self.tokens and self.parameters:
            return (2 if self.stage == "index" else 6) * self.parameters * self.tokens
        return None


class TrainingRun(Protocol):
    """What a training command's report (FinetuneReport, TrainReport) tells its stage record."""

    seconds: float
    tokens: int
    parameters: int
    steps: int
    planned_steps: int
    budget_limited: bool
    run_dir: Path

    @property
    def flops(self) -> float: ...


def training_record(stage: Stage, report: TrainingRun, *, hardware: str, settings: dict[str, Any]) -> StageRecord:
    """The stage record of a finished `journey train` or `journey finetune`."""
    steps = f"{report.steps} optimizer steps"
    if report.budget_limited:
        steps += f" of {report.planned_steps} planned (stopped by its time budget)"
    return StageRecord(
        stage=stage,
        seconds=report.seconds,
        hardware=hardware,
        tokens=report.tokens,
        parameters=report.parameters,
        flops=report.flops,
        detail=f"{steps}, run {report.run_dir.name}",
        budget_limited=report.budget_limited,
        run=report.run_dir.name,
        settings=settings,
    )


def write_stage_record(workspace: Workspace, record: StageRecord) -> Path:
    """Keep `record` as the latest measurement of its stage (written whole, or not at all)."""
    record = record.model_copy(update={"recorded": record.recorded or time.time()})
    path = workspace.stage_records_dir / f"{record.stage}.json"
    atomic_write_json(path, record.model_dump(mode="json"))
    return path


def stage_records(workspace: Workspace) -> dict[Stage, StageRecord]:
    """The latest record of every stage that ran, in STAGES order; an unreadable record is skipped (logged)."""
    found: dict[Stage, StageRecord] = {}
    for stage in STAGES:
        path = workspace.stage_records_dir / f"{stage}.json"
        if not path.is_file():
            continue
        try:
            record = StageRecord.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            log.warning("Ignoring %s: not a stage record (%s)", path, str(exc).splitlines()[0])
            continue
        if record.stage == stage:
            found[stage] = record
    return found
