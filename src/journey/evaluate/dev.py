"""`journey evaluate --dev-split`: set-ups scored on the tickets the adapter was not trained on, not on eval.jsonl.

The development split (finetune/devsplit.py) is recomputed from the settings the adapter recorded, on
the same tickets file (refused when it changed since). Each held-out ticket becomes an eval item: its
last customer turn the question (earlier turns its history), the agent's answer the reference, the
reference's checkable facts (journey/facts.py) the facts an answer must state, and a hand-over ticket
one that expects a hand-over. The answers are scored by evaluate/metrics.py as eval.jsonl's are, in
memory: no run folder, so `journey report` never mixes the two.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

from journey.assistant import load_assistant
from journey.assistant.prompts import system_prompt
from journey.errors import UserError
from journey.evaluate.evalset import EvalItem
from journey.evaluate.metrics import SetupMetrics, score_run, summarise
from journey.evaluate.runs import AnswerRecord
from journey.evaluate.tables import TextTable, pct, pct_interval
from journey.facts import checkable_facts
from journey.finetune.contexts import question_of
from journey.finetune.devsplit import dev_split
from journey.models.adapters import training_info
from journey.models.messages import Messages
from journey.training.tickets import Ticket, read_tickets
from journey.workspace import Workspace

HANDOVER, ANSWER = "hand-over", "answer"  # the two categories of development items


@dataclass
class DevResults:
    """Each set-up's metrics on the development split (categories "answer" and "hand-over"), and its answers."""

    items: list[EvalItem]
    metrics: dict[str, SetupMetrics]
    records: list[AnswerRecord]

    def actions(self, setup: str) -> int:
        """How many of the set-up's generated answers carried the hand-over action."""
        mine = [r for r in self.records if r.setup == setup]
        return sum(bool(r.handover_signals and r.handover_signals.get("action")) for r in mine)


def dev_item(ticket: Ticket) -> tuple[EvalItem, Messages]:
    """A held-out ticket as an eval item, and the turns before its question."""
    _, question, history = question_of(ticket.messages)
    reference = ticket.messages[-1]["content"]
    handover = ticket.handover is not None
    facts = () if handover else tuple(dict.fromkeys(fact.text for fact in checkable_facts(reference)))
    item = EvalItem(
        id=f"ticket-{ticket.line}",
        question=question,
        reference=reference,
        facts=facts,
        escalate=handover,
        category=HANDOVER if handover else ANSWER,
    )
    return item, history


def dev_items(workspace: Workspace, adapter: Path) -> list[tuple[EvalItem, Messages]]:
    """The development split `adapter` was trained without, as eval items with their histories."""
    info = training_info(adapter)
    if not info:
        raise UserError(f"No fine-tuned adapter in {adapter}: run `journey finetune` first.")
    settings = info.get("settings") or {}
    if not settings.get("dev_fraction"):
        raise UserError(
            f"{adapter} was trained without a development split (finetune.dev_fraction = 0, or before it existed): "
            "run `journey finetune` again to hold one out."
        )
    tickets = read_tickets(workspace.tickets_path, system_prompt(workspace.settings))
    if tickets.sha256 != info.get("data_sha256"):
        raise UserError(
            f"{workspace.tickets_path} changed since {adapter} was trained, so its development split is no longer "
            "known: run `journey finetune` again."
        )
    _, dev = dev_split(tickets.tickets, settings["dev_fraction"], settings["seed"])
    return [dev_item(ticket) for ticket in dev]


def score_dev(workspace: Workspace, setups: list[str], *, limit: int | None = None) -> DevResults:
    """Answer the development split of the workspace's adapter with each set-up and score it: the fine-tuned
    set-ups on tickets they never saw, the others on the same questions, for comparison."""
    pairs = dev_items(workspace, workspace.adapter_dir)[:limit]
    records = []
    for setup in setups:
        assistant = load_assistant(workspace, setup)
        replies = assistant.answer_batch([(item.question, history) for item, history in pairs])
        records += [
            AnswerRecord.answered(item.id, "dev", reply, reply.latency_s)
            for (item, _), reply in zip(pairs, replies, strict=True)
        ]
        del assistant
        gc.collect()
    items = [item for item, _ in pairs]
    return DevResults(items, summarise(score_run(items, records)), records)


def dev_table(results: DevResults) -> TextTable:
    """Per set-up: correct on the answerable tickets, ungrounded answers, hand-over precision / recall, actions."""
    answerable = sum(item.category == ANSWER for item in results.items)
    table = TextTable(
        f"Development split: {len(results.items)} held-out tickets ({len(results.items) - answerable} hand-overs)",
        ["set-up", "correct", "correct on answerable", "ungrounded", "hand-over P / R", "actions said"],
    )
    for setup, metrics in results.metrics.items():
        overall, answers = metrics.overall, metrics.categories.get(ANSWER)
        table.rows.append(
            [
                setup,
                pct_interval(overall.correct, overall.n),
                pct_interval(answers.correct, answers.n) if answers else "n/a",
                pct(overall.hallucination_rate),
                f"{pct(overall.handover_precision)} / {pct(overall.handover_recall)}",
                str(results.actions(setup)),
            ]
        )
    table.notes.append("Never eval.jsonl: tune on these, report on that.")
    return table
