"""`journey evaluate` on the tiny model: run folder contents, resume after an interruption, missing set-ups."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from journey.assistant.pipeline import Assistant
from journey.errors import UserError
from journey.evaluate.runner import evaluate
from journey.evaluate.runs import find_run
from journey.workspace import Workspace

QUESTIONS = 6


def eval_workspace(root: Path, *, batch_size: int = 2) -> Workspace:
    """The tiny workspace with a small eval set and a short simulation."""
    config = root / "journey.toml"
    config.write_text(
        config.read_text().replace("max_new_tokens = 12", f"max_new_tokens = 6\nbatch_size = {batch_size}")
        + "\n[simulation]\ndays = 3\n"
    )
    lines = [
        {
            "id": f"q{i}",
            "question": f"How long do I have to return item {i}?",
            "facts": ["41 days"],
            "reference": "41 days",
            "category": "policy",
        }
        for i in range(QUESTIONS - 1)
    ]
    lines.append({"id": "legal", "question": "My lawyer will call you.", "escalate": True, "category": "sensitive"})
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "eval.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return Workspace.load(root)


def quiet() -> Console:
    return Console(quiet=True)


def test_run_folder_holds_one_line_per_question_and_setup_and_a_summary(tiny_workspace: Path) -> None:
    workspace = eval_workspace(tiny_workspace)
    results = evaluate(workspace, ["as-is"], console=quiet())
    lines = results.run.answers_path.read_text().splitlines()
    assert len(lines) == QUESTIONS
    first = json.loads(lines[0])
    assert {"id", "setup", "answer", "handed_over", "passages", "lookups", "latency_s", "completion_tokens"} <= set(
        first
    )
    summary = json.loads(results.run.summary_path.read_text())
    overall = summary["setups"]["as-is"]["overall"]
    assert overall["n"] == QUESTIONS
    assert overall["handover_recall"] == 1.0  # the escalation rule catches the lawyer
    assert set(summary["setups"]["as-is"]["categories"]) == {"policy", "sensitive"}
    assert summary["simulation"]["human only"]["customers"] > 0
    assert find_run(workspace, None).id == results.run.id


def test_an_interrupted_run_resumes_without_recomputing_finished_answers(
    tiny_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = eval_workspace(tiny_workspace, batch_size=2)
    answered: list[str] = []
    original = Assistant.answer_batch

    def counting(self, items):
        if len(answered) >= 4 and interrupt:
            raise KeyboardInterrupt
        answered.extend(question for question, _ in items)
        return original(self, items)

    monkeypatch.setattr(Assistant, "answer_batch", counting)
    interrupt = True
    with pytest.raises(KeyboardInterrupt):
        evaluate(workspace, ["as-is"], console=quiet())
    assert len(answered) == 4
    interrupt = False
    answered.clear()
    results = evaluate(workspace, ["as-is"], console=quiet())  # resumes the unfinished run by default
    assert len(answered) == QUESTIONS - 4
    assert len(results.run.records()) == QUESTIONS
    answered.clear()
    evaluate(workspace, ["as-is"], console=quiet(), run_id=results.run.id)  # nothing left to do
    assert answered == []


def test_a_torn_last_line_is_answered_again(tiny_workspace: Path) -> None:
    workspace = eval_workspace(tiny_workspace)
    results = evaluate(workspace, ["as-is"], console=quiet(), limit=2)
    with results.run.answers_path.open("a") as handle:
        handle.write('{"id": "q2", "setup": "as-')
    again = evaluate(workspace, ["as-is"], console=quiet(), run_id=results.run.id)
    assert len(again.run.records()) == QUESTIONS


def test_a_setup_without_its_parts_names_the_command_before_any_work(tiny_workspace: Path) -> None:
    workspace = eval_workspace(tiny_workspace)
    with pytest.raises(UserError, match="journey finetune"):
        evaluate(workspace, ["as-is", "finetuned"], console=quiet())
    assert not workspace.runs_dir.exists()


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from journey.cli import main

    monkeypatch.setattr("sys.argv", ["journey", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def test_cli_mistakes_get_one_clear_line(
    tiny_workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    eval_workspace(tiny_workspace)
    code, output = run_cli(monkeypatch, capsys, "evaluate", "--setups", "as-is,magic", "-w", str(tiny_workspace))
    assert code == 2 and "Unknown set-up 'magic'" in output and "Traceback" not in output
    code, output = run_cli(monkeypatch, capsys, "report", "-w", str(tiny_workspace))
    assert code == 2 and "run `journey evaluate` first" in output
    code, output = run_cli(monkeypatch, capsys, "cost", "-w", str(tiny_workspace))
    assert code == 0 and "did not run" in output


def test_judge_grades_given_answers_once(tmp_path: Path) -> None:
    from journey.evaluate.evalset import EvalItem
    from journey.evaluate.judge import judge_run, load_judgements
    from journey.evaluate.runs import AnswerRecord, create_run
    from journey.models.backends import Generation

    class StubJudge:
        name = "stub"

        def __init__(self) -> None:
            self.prompts: list[str] = []

        def generate(self, conversations, *, max_new_tokens):
            self.prompts += [c[-1]["content"] for c in conversations]
            return [Generation("Grade: 4", 0, 1, 0.0) for _ in conversations]

    (tmp_path / "journey.toml").write_text("")
    run = create_run(Workspace.load(tmp_path), "r")
    items = [
        EvalItem("a", "Price?", reference="It costs 5."),
        EvalItem("b", "Sue?", escalate=True),
        EvalItem("c", "Hi"),
    ]
    records = [
        AnswerRecord(id=i, setup="as-is", fingerprint="f", question="q", answer="It costs 5.", handed_over=i == "b")
        for i in ("a", "b", "c")
    ]
    judge = StubJudge()
    assert judge_run(judge, run, items, records) == 1  # hand-overs and questions without a reference are not judged
    assert "REFERENCE: It costs 5." in judge.prompts[0]
    assert load_judgements(run) == {("a", "as-is", "f"): 0.75}
    assert judge_run(judge, run, items, records) == 0
