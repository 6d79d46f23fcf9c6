"""The development split: held out of fine-tuning (disjoint, deterministic, stratified); scored without eval.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import journey.finetune.run as finetune_run
from cli_runner import run_main
from journey.errors import UserError
from journey.evaluate.dev import ANSWER, HANDOVER, dev_item, dev_items, score_dev
from journey.finetune import finetune
from journey.finetune.devsplit import dev_split
from journey.models.messages import Transfer
from journey.training.tickets import Ticket
from journey.workspace import Workspace

pytestmark = pytest.mark.usefixtures("one_torch_thread")

HANDOVER_ANSWER = "I'm handing this conversation to a member of our support team, who will reply here shortly."


def _ticket(line: int, question: str, answer: str, *, handover: bool = False) -> Ticket:
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": question}]
    messages.append({"role": "assistant", "content": answer})
    return Ticket(line, messages, Transfer() if handover else None, "flag" if handover else None)


def _tickets() -> list[Ticket]:
    answers = [_ticket(i, f"Question {i}?", f"It costs {i}.50 euros.") for i in range(90)]
    return answers + [_ticket(90 + i, f"Complaint {i}!", HANDOVER_ANSWER, handover=True) for i in range(10)]


def test_the_split_is_disjoint_deterministic_stratified_and_independent_of_order() -> None:
    tickets = _tickets()
    trained, dev = dev_split(tickets, 0.2, seed=0)
    assert len(dev) == 20 and sum(t.handover is not None for t in dev) == 2  # a fifth of each stratum
    assert {t.line for t in trained}.isdisjoint(t.line for t in dev) and len(trained) + len(dev) == 100
    assert [t.line for t in dev_split(tickets, 0.2, seed=0)[1]] == [t.line for t in dev]
    assert sorted(t.line for t in dev_split(tickets[::-1], 0.2, seed=0)[1]) == sorted(t.line for t in dev)
    assert {t.line for t in dev_split(tickets, 0.2, seed=1)[1]} != {t.line for t in dev}  # the seed draws it
    assert dev_split(tickets, 0, seed=0) == (tickets, [])


def test_identical_conversations_fall_on_one_side() -> None:
    tickets = [_ticket(i, f"Question {i % 5}?", "Yes.") for i in range(50)]  # five conversations, ten times each
    trained, dev = dev_split(tickets, 0.1, seed=0)
    assert len(dev) == 10  # one whole conversation
    assert {t.messages[1]["content"] for t in trained}.isdisjoint(t.messages[1]["content"] for t in dev)


def test_a_held_out_ticket_is_an_eval_item_with_the_answers_facts() -> None:
    ticket = _ticket(7, "How much is the LK-204 tent?", "Hi! The tent costs €149.00; returns within 30 days.")
    history = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi, how can I help?"}]
    multi_turn = Ticket(8, [ticket.messages[0], *history, *ticket.messages[1:]])
    item, before = dev_item(ticket)
    assert (item.id, item.question, item.category, item.escalate) == ("ticket-7", "How much is the LK-204 tent?",
                                                                      ANSWER, False)  # fmt: skip
    assert set(item.facts) == {"€149.00", "30 days"} and before == []
    assert dev_item(multi_turn)[1] == history  # earlier turns are the question's history
    handover, _ = dev_item(_ticket(9, "Complaint!", HANDOVER_ANSWER, handover=True))
    assert handover.escalate and handover.category == HANDOVER and handover.facts == ()


def _workspace(root: Path, base: Path) -> Workspace:
    root.mkdir()
    (root / "journey.toml").write_text(
        f"""
[project]
name = "Testshop"
[model]
base = "{base}"
max_new_tokens = 8
[finetune]
seq_len = 256
batch_tokens = 512
val_fraction = 0.1
dev_fraction = 0.2
handover_weight = 3
augmentation_aware = "off"
bf16 = false
""",
        encoding="utf-8",
    )
    lines = [{"messages": t.messages[1:], **({"handover": True} if t.handover else {})} for t in _tickets()[::3]]
    (root / "data").mkdir()
    (root / "data" / "tickets.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return Workspace.load(root)


def test_nothing_of_the_dev_split_is_trained_on_and_hand_overs_are_weighted(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = _workspace(tmp_path / "ws", tiny_model_dir)
    encoded: list[list[dict]] = []
    real_encode = finetune_run.encode

    def encode(tokenizer, messages, seq_len):
        encoded.append(messages)
        return real_encode(tokenizer, messages, seq_len)

    monkeypatch.setattr(finetune_run, "encode", encode)
    report = finetune(workspace, max_steps=2, progress=False)

    dev = dev_items(workspace, workspace.adapter_dir)
    # 34 tickets, 4 of them hand-overs: a fifth of each held out
    assert report.dev_tickets == len(dev) == 7 and sum(item.escalate for item, _ in dev) == 1
    trained_questions = {messages[-2]["content"] for messages in encoded}
    assert trained_questions.isdisjoint(item.question for item, _ in dev)
    assert len(trained_questions) == 34 - 7
    handovers = [m for m in encoded if m[-1]["content"].startswith("<transfer_to_human")]
    assert len(handovers) == 3 * 3  # the 3 trained hand-over tickets, each 3 times

    results = score_dev(workspace, ["as-is", "finetuned"])
    assert [item.id for item in results.items] == [item.id for item, _ in dev]
    for setup in ("as-is", "finetuned"):
        metrics = results.metrics[setup]
        assert metrics.overall.n == 7 and metrics.categories[HANDOVER].n == 1 and metrics.categories[ANSWER].n == 6
        assert 0 <= results.actions(setup) <= 7

    tickets = workspace.tickets_path
    tickets.write_text(tickets.read_text(encoding="utf-8") + tickets.read_text(encoding="utf-8").splitlines()[0] + "\n")
    with pytest.raises(UserError, match="changed since"):
        dev_items(workspace, workspace.adapter_dir)


def test_scoring_without_a_split_or_an_adapter_is_one_clear_message(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = _workspace(tmp_path / "ws", tiny_model_dir)
    code, said = run_main(monkeypatch, capsys, "evaluate", "-w", str(workspace.root), "--dev-split")
    assert code == 2 and "No fine-tuned adapter" in said and "journey finetune" in said
    settings = workspace.settings.finetune.model_copy(update={"dev_fraction": 0.0})
    finetune(workspace, max_steps=1, progress=False, settings=settings)
    with pytest.raises(UserError, match="without a development split"):
        dev_items(workspace, workspace.adapter_dir)
