"""`journey report`: self-contained HTML with every user/model string escaped, and the Markdown journey table."""

from __future__ import annotations

import json
from pathlib import Path

from journey.evaluate.report import write_report
from journey.evaluate.runs import AnswerRecord, create_run, find_run
from journey.workspace import Workspace

ATTACK = "<script>alert('x')</script> | costs €9.99"


def workspace_with_run(root: Path) -> Workspace:
    (root / "journey.toml").write_text('[project]\nname = "Shop <b>"\n[simulation]\ndays = 2\n')
    (root / "data").mkdir()
    items = [
        {"id": "q1", "question": "What does <img src=x> cost?", "facts": ["9.99"], "category": "<i>product</i>"},
        {"id": "q2", "question": "I want a lawyer", "escalate": True, "category": "sensitive"},
    ]
    (root / "data" / "eval.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    workspace = Workspace.load(root)
    run = create_run(workspace, "r1", eval_file=str(workspace.eval_path))
    run.append(
        [
            AnswerRecord(
                id="q1",
                setup=setup,
                fingerprint="f",
                question=items[0]["question"],
                answer=ATTACK,
                handed_over=False,
                latency_s=0.4,
                wall_s=0.1,
                prompt_tokens=50,
                completion_tokens=8,
            )
            for setup in ("as-is", "augmented")
        ]
        + [
            AnswerRecord(
                id="q2",
                setup=setup,
                fingerprint="f",
                question="I want a lawyer",
                answer="A human will reply.",
                handed_over=True,
                reason="rule:legal",
            )
            for setup in ("as-is", "augmented")
        ]
    )
    return workspace


def test_report_escapes_answers_questions_and_names(tmp_path: Path) -> None:
    workspace = workspace_with_run(tmp_path)
    report = write_report(workspace, find_run(workspace, "r1"))
    page = report.html_path.read_text()
    assert "<script>" not in page and "<img src=x>" not in page and "<i>product" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "Shop &lt;b&gt;" in page
    assert page.count("data:image/png;base64,") == 4  # plots embedded: the file stands alone
    markdown = report.markdown_path.read_text()
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert "\\| costs €9.99" in markdown  # a pipe in an answer does not break the table


def test_markdown_opens_with_the_seeds_journey_table(tmp_path: Path) -> None:
    workspace = workspace_with_run(tmp_path)
    markdown = write_report(workspace, find_run(workspace, "r1")).markdown_path.read_text()
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert table[0] == (
        "| set-up | correct | resolved by bot | hand-over P/R | avg response time (sim.) | satisfaction (sim.) | cost |"
    )
    rows = {line.split(" | ")[0].strip("| "): line for line in table[2:5]}
    assert list(rows) == ["human only", "as-is", "augmented"]
    # correct 2/2, resolved 1/2 (with their 95% Wilson intervals), hand-over P/R
    assert "| 100% (34–100%) | 50% (9–91%) | 1.00 / 1.00 |" in rows["as-is"]


def test_steps_table_pairs_the_same_questions_before_and_after(tmp_path: Path) -> None:
    from journey.evaluate.headline import steps_table
    from journey.evaluate.results import load_results

    (tmp_path / "journey.toml").write_text("[simulation]\ndays = 1\n")
    (tmp_path / "data").mkdir()
    items = [{"id": f"q{i}", "question": f"Price of item {i}?", "facts": [f"{i}.99"]} for i in range(8)]
    (tmp_path / "data" / "eval.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    workspace = Workspace.load(tmp_path)
    run = create_run(workspace, "steps", eval_file=str(workspace.eval_path))
    right = {"as-is": {0}, "augmented": {1, 2, 3, 4, 5, 6, 7}}  # augmented gains 7 questions and loses q0
    run.append(
        [
            AnswerRecord(
                id=f"q{i}",
                setup=setup,
                fingerprint="f",
                question=f"Price of item {i}?",
                answer=f"It costs {i}.99." if i in correct else "I do not know.",
                handed_over=False,
            )
            for setup, correct in right.items()
            for i in range(8)
        ]
    )
    table = steps_table(load_results(workspace, find_run(workspace, "steps")))
    assert table.rows == [["as-is → augmented", "12% → 88%", "7", "1", "0.07"]]  # 2 * P(X <= 1), X ~ Bin(8, 1/2)


def test_reach_table_shows_only_the_set_ups_that_gathered_knowledge(tmp_path: Path) -> None:
    workspace = workspace_with_run(tmp_path)
    run = find_run(workspace, "r1")
    run.append(
        [
            AnswerRecord(
                id="q1",
                setup="finetuned+augmented",
                fingerprint="f",
                question="What does it cost?",
                answer="It costs €9.99.",
                handed_over=False,
                passages=[{"id": "p", "title": "Price", "source": "kb", "text": "The item costs 9.99 EUR."}],
            )
        ]
    )
    report = write_report(workspace, run)
    reach = report.tables["reach"]
    assert [row[:3] for row in reach.rows] == [["finetuned+augmented", "1", "100%"]]
    assert reach.rows[0][3] == "100%" and reach.rows[0][4] == "n/a"
    assert "Were the facts given?" in report.markdown_path.read_text()
