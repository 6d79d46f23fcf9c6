"""Ctrl-C: exit 130 with the command that continues the work, never 0 and never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import run_main
from journey.assistant.pipeline import Assistant
from journey.cli import interrupted_message


def ctrl_c(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("target", "args", "message"),
    [
        ("journey.finetune.finetune", ["finetune", "--max-steps", "3"], "`journey finetune --max-steps 3 --resume`"),
        ("journey.finetune.finetune", ["-v", "finetune", "--resume"], "`journey finetune --resume`."),
        ("journey.train.train", ["train", "--preset", "tiny"], "`journey train --preset tiny --resume`"),
        ("journey.evaluate.report.cost_tables", ["cost"], "Interrupted."),
    ],
)
def test_ctrl_c_in_a_verb_exits_130_and_says_how_to_resume(
    tiny_workspace: Path, monkeypatch, capsys, target: str, args: list[str], message: str
) -> None:
    monkeypatch.setattr(target, ctrl_c)
    monkeypatch.chdir(tiny_workspace)
    (tiny_workspace / "data" / "corpus").mkdir(parents=True)  # the verbs check their data before torch loads
    ticket = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    (tiny_workspace / "data" / "tickets.jsonl").write_text(json.dumps(ticket) + "\n", encoding="utf-8")
    code, said = run_main(monkeypatch, capsys, *args)
    assert code == 130 and message in said
    assert said.startswith("Interrupted")


def test_an_interrupted_evaluation_keeps_its_answers_and_the_hint_resumes_it(
    tiny_workspace: Path, monkeypatch, capsys
) -> None:
    config = tiny_workspace / "journey.toml"
    config.write_text(config.read_text().replace("max_new_tokens = 12", "max_new_tokens = 4\nbatch_size = 2"))
    questions = [{"id": f"q{i}", "question": f"Where is order {i}?", "facts": ["shipped"]} for i in range(5)]
    (tiny_workspace / "data").mkdir()
    (tiny_workspace / "data" / "eval.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    batches: list[int] = []
    original = Assistant.answer_batch

    def second_batch_interrupted(self, items):
        batches.append(len(items))
        if len(batches) == 2:
            raise KeyboardInterrupt
        return original(self, items)

    monkeypatch.setattr(Assistant, "answer_batch", second_batch_interrupted)
    ws = str(tiny_workspace)
    code, said = run_main(monkeypatch, capsys, "evaluate", "--setups", "as-is", "--fresh", "-w", ws)
    assert code == 130 and f"Interrupted — resume with `journey evaluate --setups as-is -w {ws}`." in said
    answers = list((tiny_workspace / ".journey" / "runs").glob("*/answers.jsonl"))
    assert len(answers) == 1 and len(answers[0].read_text().splitlines()) == 2  # the finished batch is saved

    monkeypatch.setattr(Assistant, "answer_batch", original)
    code, said = run_main(monkeypatch, capsys, "evaluate", "--setups", "as-is", "-w", ws)  # the hint's command
    assert code == 0 and "Reusing 2 answer(s)" in said
    assert len(answers[0].read_text().splitlines()) == 5


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["finetune"], "Interrupted — resume with `journey finetune --resume`."),
        (["train", "-w", "my bot"], "Interrupted — resume with `journey train -w 'my bot' --resume`."),
        (["evaluate", "--fresh", "--limit", "5"], "Interrupted — resume with `journey evaluate --limit 5`."),
        (["demo", "--quick"], "Interrupted — resume with `journey demo --quick`."),
        (["index", "--watch"], "Interrupted."),
    ],
)
def test_the_resume_hint_is_the_command_that_continues(args: list[str], expected: str) -> None:
    assert interrupted_message(args[0], args) == expected
