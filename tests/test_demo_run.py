"""The demo's time budget: evaluation is measured first, the training stages get what it leaves."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from journey import demo_run
from journey.demo_run import DEFAULT, Budget, finetune_stage, train_stage
from journey.records import StageRecord, write_stage_record
from journey.workspace import Workspace


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The commands the demo runs, recorded instead of run (each succeeds)."""
    run: list[list[str]] = []
    monkeypatch.setattr(demo_run.subprocess, "run", lambda cmd, check: run.append(cmd) or _done(cmd))
    return run


def test_a_slower_evaluation_leaves_the_training_stages_less_time() -> None:
    fast, slow = Budget(25 * 60), Budget(25 * 60)
    fast.evaluation_s, slow.evaluation_s = 60, 360
    assert slow.for_finetune() < fast.for_finetune() < 25 * 60
    assert slow.for_train() < fast.for_train()
    late = Budget(60, started=fast.started - 3600)  # already an hour over
    assert late.for_finetune() == late.for_train() == Budget.MINIMUM_S


def test_each_training_stage_runs_with_its_share_as_time_budget(
    tiny_workspace: Path, commands: list[list[str]]
) -> None:
    workspace, budget = Workspace.load(tiny_workspace), Budget(10 * 60)
    budget.evaluation_s = 100
    console = demo_run.Console(record=True)
    assert finetune_stage(console, workspace, DEFAULT, budget, retrain=False)
    assert train_stage(console, workspace, DEFAULT, budget, retrain=False)
    finetune, train = commands
    assert finetune[2:4] == ["journey", "finetune"] and train[2:4] == ["journey", "train"]
    shares = [float(cmd[cmd.index("--time-budget") + 1]) for cmd in commands]
    assert shares[0] == pytest.approx(budget.for_finetune() / 60, abs=0.05)
    assert 0.5 <= shares[1] <= 10 and "--max-steps" in finetune and "40" in finetune
    assert "up to" in console.export_text()


def test_a_model_made_with_this_plan_is_reused_from_its_stage_record(
    tiny_workspace: Path, commands: list[list[str]]
) -> None:
    workspace, budget = Workspace.load(tiny_workspace), Budget(10 * 60)
    workspace.adapter_dir.mkdir(parents=True)
    made = StageRecord(
        stage="finetune", seconds=9, hardware="cpu", detail="40 optimizer steps", settings=DEFAULT.finetune
    )
    write_stage_record(workspace, made)
    console = demo_run.Console(record=True)
    assert finetune_stage(console, workspace, DEFAULT, budget, retrain=False) and commands == []
    said = console.export_text()
    assert "reusing" in said and "40 optimizer steps" in said
    write_stage_record(workspace, made.model_copy(update={"settings": {"max_steps": 2}}))  # another plan's
    assert finetune_stage(console, workspace, DEFAULT, budget, retrain=False) and len(commands) == 1


def _done(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(command, 0)
