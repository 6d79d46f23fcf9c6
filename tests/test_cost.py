"""Cost: measured stages round-trip, FLOPs formulas, per-1,000-question pricing and the extrapolation table."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from journey.evaluate.cost import extrapolation_table, inference_costs, setup_cost, stages_table
from journey.evaluate.freshness import FreshnessAnswer, FreshnessProbe, FreshnessResult
from journey.evaluate.runs import AnswerRecord, create_run
from journey.evaluate.tradeoffs import tradeoffs_table
from journey.records import StageRecord, stage_records, training_record, write_stage_record
from journey.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    (tmp_path / "journey.toml").write_text('[cost]\nhardware = "box"\nprices_per_hour = { box = 3.6, h100 = 6.0 }\n')
    return Workspace.load(tmp_path)


def test_stage_records_round_trip_and_estimate_flops(workspace: Workspace) -> None:
    assert stage_records(workspace) == {}
    write_stage_record(
        workspace, StageRecord(stage="finetune", seconds=100, hardware="box", tokens=1000, parameters=10)
    )
    path = write_stage_record(
        workspace, StageRecord(stage="index", seconds=10, hardware="unpriced", tokens=50, parameters=4)
    )
    assert path == workspace.stage_records_dir / "index.json" and json.loads(path.read_text())["kind"] == "stage"
    (workspace.stage_records_dir / "train.json").write_text("{not json")  # skipped, not fatal
    stages = stage_records(workspace)
    assert set(stages) == {"finetune", "index"} and stages["index"].recorded > 0
    assert stages["finetune"].estimated_flops == 6 * 10 * 1000
    assert stages["index"].estimated_flops == 2 * 4 * 50
    rows = {row[0]: row for row in stages_table(workspace, stages).rows}
    assert rows["train"][1] == "did not run"
    assert rows["finetune"][5] == "$0.10 (box)"
    assert rows["index"][5] == "n/a (unpriced)"


def test_per_thousand_questions_and_setup_cost(workspace: Workspace) -> None:
    run = create_run(workspace, "r1")
    run.update_manifest(parameters={"augmented": 1000})
    run.append(
        [
            AnswerRecord(
                id=f"q{i}",
                setup="augmented",
                fingerprint="f",
                question="q",
                answer="a",
                handed_over=False,
                wall_s=0.5,
                prompt_tokens=90,
                completion_tokens=10,
            )
            for i in range(4)
        ]
    )
    cost = inference_costs(workspace, run)["augmented"]
    assert cost.seconds_per_1k == pytest.approx(500)
    assert cost.flops_per_1k == pytest.approx(2 * 1000 * 100 * 1000)
    assert cost.dollars_per_1k == pytest.approx(0.5)
    write_stage_record(workspace, StageRecord(stage="index", seconds=3600, hardware="box"))
    assert setup_cost(workspace, "augmented", cost, stage_records(workspace)) == "$0.50/1k q + $3.60 once"
    assert setup_cost(workspace, "as-is", None, {}) == "n/a"


def test_extrapolation_uses_six_n_d_and_two_n_per_token(workspace: Workspace) -> None:
    table = extrapolation_table(workspace, tokens_per_question=500, finetune_tokens=None)
    rows = {(row[0], row[1]): row for row in table.rows}
    assert ("1B", "fine-tune on this workspace's tickets") not in rows  # nothing measured: no made-up row
    assert rows[("8B", "fine-tune on 100,000,000 tokens")][3] == "4.8e+18"  # 6 · 8e9 · 1e8
    assert rows[("1B", "train from scratch")][3] == "1.2e+20"  # 6 · 1e9 · 20e9
    assert rows[("70B", "answer 1,000 questions")][3] == "7e+16"  # 2 · 70e9 · 500 · 1000
    assert table.columns[-1] == "h100 ($6/h)" and len(table.columns) == 5  # only priced GPUs


def test_tradeoffs_fill_the_seed_rows_from_measurements(workspace: Workspace) -> None:
    write_stage_record(workspace, StageRecord(stage="finetune", seconds=120, hardware="box"))
    probe = FreshnessProbe(
        "shop", "products", "sku", "BK-1", "price", 10.0, 20.0, "How much is the bike?", "10.00", "20.00"
    )
    freshness = FreshnessResult(
        probe=probe,
        reindex_seconds=1.5,
        answers={
            "finetuned": FreshnessAnswer(answer="10.00", handed_over=False, new_value=False, old_value=True),
            "augmented": FreshnessAnswer(answer="20.00", handed_over=False, new_value=True, old_value=False),
        },
    )
    table = tradeoffs_table(workspace, stage_records(workspace), freshness)
    rows = {row[0]: row[1:] for row in table.rows}
    assert rows["compute here"][1].startswith("2.0 min")
    assert rows["updating to new information"][2].startswith("incremental re-index: 1.5 s")
    assert rows["answers a changed database value"] == ["not tested", "finetuned: old value", "augmented: new value"]


def test_cost_reads_stage_records_only_never_a_run_summary(workspace: Workspace) -> None:
    """A training run's run.json is its summary for users; what the cost step prices is the stage's record."""
    folder = workspace.runs_dir / "finetune-20260101-000000"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"seconds": 50, "tokens": 2000, "parameters": 100, "steps": 5}))
    assert stage_records(workspace) == {}

    run = SimpleNamespace(
        seconds=70.0, tokens=2000, parameters=100, flops=1.2e6, steps=3, planned_steps=5, budget_limited=True,
        run_dir=folder,
    )  # fmt: skip
    write_stage_record(workspace, training_record("finetune", run, hardware="box", settings={"max_steps": 5}))
    misplaced = StageRecord(stage="index", seconds=1, hardware="box").model_dump_json()
    (workspace.stage_records_dir / "train.json").write_text(misplaced)
    finetune = stage_records(workspace)["finetune"]
    assert (finetune.seconds, finetune.estimated_flops, finetune.settings) == (70, 1.2e6, {"max_steps": 5})
    assert finetune.hardware == "box" and finetune.run == folder.name and finetune.budget_limited
    assert finetune.detail == f"3 optimizer steps of 5 planned (stopped by its time budget), run {folder.name}"
    assert set(stage_records(workspace)) == {"finetune"}  # a record under another stage's name is not that stage
    rows = {row[0]: row for row in stages_table(workspace, stage_records(workspace)).rows}
    assert rows["finetune"][1:3] == ["70.0 s", "2,000"] and rows["finetune"][6] == finetune.detail
