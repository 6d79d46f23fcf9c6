"""The demo's time budget (evaluation is measured first, the training stages get what it leaves), and which
demo company it runs on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from cli_runner import run_main
from journey import demo_run
from journey.demo import COMPANIES, create_demo_workspace, demo_company
from journey.demo_run import (
    DEFAULT,
    Budget,
    demo_directory,
    demo_probe,
    ensure_demo_workspace,
    finetune_stage,
    train_stage,
)
from journey.errors import UserError
from journey.knowledge.database import fetch, read_only_engine
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


@pytest.mark.parametrize("company", sorted(COMPANIES))
def test_the_freshness_probe_raises_a_price_the_indexed_table_shows(tmp_path: Path, company: str) -> None:
    create_demo_workspace(tmp_path, company=company)
    workspace = Workspace.load(tmp_path)
    probe = demo_probe(workspace, demo_company(company).probe)
    assert probe.new_value == pytest.approx(probe.old_value + 10)
    (table,) = workspace.settings.knowledge.tables
    engine = read_only_engine(workspace.database_url(probe.database))
    rows = {row[table.id_column]: table.template.format(**row) for row in fetch(engine, text(table.query), {})}
    assert probe.old_fact in rows[probe.key] and probe.new_fact not in rows[probe.key]
    assert probe.question.endswith("?") and "{" not in probe.question


def test_each_company_has_its_own_demo_folder_and_refuses_anothers(tmp_path: Path) -> None:
    assert demo_directory("larchkite") == Path("demo-workspace")
    assert demo_directory("copperwell") == Path("demo-workspace-copperwell")
    console = demo_run.Console(record=True)
    made = ensure_demo_workspace(console, tmp_path / "cw", "copperwell")
    assert made.settings.project.name == "Copperwell Power & Fibre" and "Creating" in console.export_text()
    assert ensure_demo_workspace(console, tmp_path / "cw", "copperwell").root == made.root  # reused
    with pytest.raises(UserError, match="holds the workspace of Copperwell Power & Fibre, not of Larchkite"):
        ensure_demo_workspace(console, tmp_path / "cw", "larchkite")


def test_an_unknown_company_is_one_sentence_listing_the_known_ones(tmp_path: Path, monkeypatch, capsys) -> None:
    demo, init = ("demo", "--company", "acme", "--dir", str(tmp_path / "d")), ("init", str(tmp_path), "--demo", "acme")
    for args in (demo, init):
        code, said = run_main(monkeypatch, capsys, *args)
        assert code == 2 and "There is no demo company 'acme'. The demo companies are: larchkite" in said
        assert "copperwell (Copperwell Power & Fibre" in said
    assert not any(tmp_path.iterdir())
    code, said = run_main(monkeypatch, capsys, "init", str(tmp_path / "cw"), "--demo", "copperwell")
    assert code == 0 and (tmp_path / "cw" / "data" / "crm.sqlite").is_file()


def _done(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.CompletedProcess(command, 0)
