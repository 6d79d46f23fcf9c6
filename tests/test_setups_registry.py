"""The set-up registry: every table, cost row, comparison and loader derives from its rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journey import setups
from journey.assistant.setups import resolve_setup
from journey.errors import UserError
from journey.evaluate.cost import setup_cost
from journey.evaluate.freshness import FreshnessAnswer, FreshnessProbe, FreshnessResult
from journey.evaluate.headline import journey_table, steps_table
from journey.evaluate.results import load_results
from journey.evaluate.runs import AnswerRecord, create_run, find_run
from journey.evaluate.tradeoffs import tradeoffs_table
from journey.setups import SetupDef
from journey.workspace import Workspace

HYPOTHETICAL = SetupDef("scratch+augmented", "scratch", True, ("scratch",), demonstrates="index")


def test_the_seeds_steps_and_stages_come_from_the_rows() -> None:
    assert setups.journey_steps() == [
        ("augmented", "as-is"),
        ("finetuned", "as-is"),
        ("finetuned+augmented", "augmented"),
        ("finetuned+augmented", "finetuned"),
        ("scratch", "as-is"),
        ("preference-tuned", "finetuned"),
        ("preference-tuned+augmented", "finetuned+augmented"),
        ("preference-tuned+augmented", "preference-tuned"),
    ]
    assert setups.setup_def("finetuned+augmented").stages == ("finetune", "index")
    assert setups.setup_def("preference-tuned+augmented").stages == ("finetune", "index")
    assert setups.setup_def("scratch").stages == ("train",)
    assert setups.demonstrating("index") == ("augmented", "finetuned+augmented")


def test_an_unregistered_setup_is_an_error_never_silently_dropped() -> None:
    with pytest.raises(UserError, match="Unknown set-up 'gpt-5'"):
        setups.in_journey_order(["as-is", "gpt-5"])
    with pytest.raises(UserError, match="Choose one of: as-is, augmented"):
        setups.setup_def("augmentd")


def _workspace_with_answers(root: Path, names: list[str]) -> Workspace:
    (root / "journey.toml").write_text(f"[simulation]\ndays = 1\n[evaluate]\nsetups = {json.dumps(names)}\n")
    (root / "data").mkdir()
    items = [{"id": f"q{i}", "question": f"Price of item {i}?", "facts": [f"{i}.99"]} for i in range(4)]
    (root / "data" / "eval.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    workspace = Workspace.load(root)
    run = create_run(workspace, "r", eval_file=str(workspace.eval_path))
    run.append(
        [
            AnswerRecord(
                id=f"q{i}",
                setup=name,
                fingerprint="f",
                question=f"Price of item {i}?",
                answer=f"It costs {i}.99." if name != "scratch" or i == 0 else "No idea.",
                handed_over=False,
                wall_s=0.1,
            )
            for name in names
            for i in range(4)
        ]
    )
    return workspace


def test_a_new_setup_is_one_row_and_shows_up_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setups, "REGISTRY", (*setups.REGISTRY, HYPOTHETICAL))
    workspace = _workspace_with_answers(tmp_path, ["scratch", "scratch+augmented"])

    # it loads the scratch model with knowledge on, and says which parts are missing
    with pytest.raises(UserError, match="run `journey train` first"):
        resolve_setup(workspace, "scratch+augmented")
    (workspace.scratch_model_dir).mkdir(parents=True)
    (workspace.scratch_model_dir / "config.json").write_text("{}")
    with pytest.raises(UserError, match="run `journey index` first"):
        resolve_setup(workspace, "scratch+augmented")
    workspace.index_dir.mkdir(parents=True)
    spec = resolve_setup(workspace, "scratch+augmented")
    assert (spec.base, spec.adapter, spec.knowledge) == (str(workspace.scratch_model_dir), None, True)

    results = load_results(workspace, find_run(workspace, "r"))
    assert results.setups == ["scratch", "scratch+augmented"]
    assert [row[0] for row in journey_table(workspace, results).rows] == ["human only", "scratch", "scratch+augmented"]
    assert steps_table(results).rows[0][:4] == ["scratch → scratch+augmented", "25% → 100%", "3", "0"]
    assert "scratch+augmented" in results.simulation
    answer = FreshnessAnswer(answer="y", handed_over=False, new_value=True, old_value=False)
    probe = FreshnessProbe("shop", "t", "k", "x", "c", "x", "y", "?", "x", "y")
    freshness = FreshnessResult(probe=probe, reindex_seconds=1.0, answers={"scratch+augmented": answer})
    fresh_row = tradeoffs_table(workspace, {}, freshness).rows[-1]
    assert fresh_row[-1] == "scratch+augmented: new value"
    assert setup_cost(workspace, "scratch+augmented", None, {}) == "n/a"
    assert setups.setup_def("scratch+augmented").stages == ("train", "index")
