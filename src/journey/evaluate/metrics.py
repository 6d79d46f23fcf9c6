"""Score answers against the eval set and aggregate the scores per set-up and per category.

Outcomes (the right one depends on the question):
- `escalate: true` — correct when the assistant hands over;
- with facts — correct when it answers (no hand-over) and states every fact;
- without facts — scored on the hand-over decision only: correct when it answers.
Resolved by the bot = answered and correct. Hand-over precision/recall treat
"handed over" as the prediction and `escalate` as the truth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import binomtest

from journey.assistant.prompts import CONTEXT_PREAMBLE, render_context
from journey.evaluate.evalset import EvalItem
from journey.evaluate.runs import AnswerRecord
from journey.facts import contains_fact, ungrounded

ECHO_MARKERS = ("<data>", "</data>", CONTEXT_PREAMBLE[:40])


@dataclass(frozen=True)
class Score:
    """How one answer did on one question."""

    correct: bool
    resolved: bool
    handed_over: bool
    escalate: bool
    fact_recall: float | None  # None when the question has no facts to check
    missing_facts: tuple[str, ...]
    hallucinated: tuple[str, ...]  # prices, amounts, dates, codes found in no source
    echoed: bool = False  # the answer repeats the prompt's data block instead of answering from it
    given: bool | None = None  # every fact was in what the model was given (None: no facts, or knowledge off)


def score(item: EvalItem, record: AnswerRecord) -> Score:
    """Score one answer: facts, hand-over decision and grounding."""
    missing = tuple(fact for fact in item.facts if not contains_fact(record.answer, fact))
    recall = 1 - len(missing) / len(item.facts) if item.facts and not item.escalate else None
    correct = record.handed_over if item.escalate else not record.handed_over and not missing
    hallucinated: tuple[str, ...] = ()
    if not record.handed_over:
        sources = (record.question, item.reference, render_context(record.context()))
        hallucinated = tuple(fact.text for fact in ungrounded(record.answer, *sources))
    echoed = not record.handed_over and any(marker in record.answer for marker in ECHO_MARKERS)
    return Score(
        correct=correct,
        resolved=correct and not record.handed_over,
        handed_over=record.handed_over,
        escalate=item.escalate,
        fact_recall=recall,
        missing_facts=missing,
        hallucinated=hallucinated,
        echoed=echoed,
        given=facts_given(item, record),
    )


def facts_given(item: EvalItem, record: AnswerRecord) -> bool | None:
    """Whether every fact of an answerable question was in the question or the data block the model was given:
    what retrieval and the lookups put within reach, apart from what the model made of it. None when the
    question has no facts, or nothing was gathered for it (knowledge off, or a rule handed over first)."""
    gathered = record.passages or record.lookups or record.reason == "no-knowledge"
    if not item.facts or item.escalate or not gathered:
        return None
    given = f"{record.question}\n{render_context(record.context())}"
    return all(contains_fact(given, fact) for fact in item.facts)


@dataclass(frozen=True)
class Metrics:
    """Aggregate scores of a group of answers (one set-up, optionally one category)."""

    n: int
    correct: float
    resolved_by_bot: float
    fact_recall: float | None
    hallucination_rate: float | None  # share of given answers (not hand-overs) with an ungrounded fact
    hallucinated_facts: int
    echoed_context: float | None  # share of given answers that repeat the prompt's data block
    facts_given: float | None  # share of the answerable questions (knowledge on) with every fact in the prompt
    correct_when_given: float | None  # share correct of those
    correct_when_not_given: float | None  # share correct of the others (facts the model knew by itself)
    handed_over: float
    handover_precision: float | None
    handover_recall: float | None
    latency_p50_s: float
    latency_p95_s: float
    tokens_per_s: float | None
    questions_per_min: float | None
    judge: float | None = None  # mean LLM-as-judge score in [0, 1], when a judge is configured

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


Judgements = dict[tuple[str, str, str], float]


def aggregate(rows: list[tuple[AnswerRecord, Score]], judge: Judgements | None = None) -> Metrics:
    """Metrics over `rows`; `judge` maps (question id, set-up, fingerprint) to a judge score in [0, 1]."""
    scores = [s for _, s in rows]
    records = [r for r, _ in rows]
    answered = [s for s in scores if not s.handed_over]
    gathered = [s for s in scores if s.given is not None]
    given = [s for s in gathered if s.given]
    not_given = [s for s in gathered if not s.given]
    recalls = [s.fact_recall for s in scores if s.fact_recall is not None]
    true_positive = sum(s.handed_over and s.escalate for s in scores)
    predicted = sum(s.handed_over for s in scores)
    actual = sum(s.escalate for s in scores)
    latencies = [r.latency_s for r in records]
    wall = sum(r.wall_s for r in records)
    judged = [judge[key] for r in records if judge and (key := (r.id, r.setup, r.fingerprint)) in judge]
    return Metrics(
        n=len(rows),
        correct=share(s.correct for s in scores),
        resolved_by_bot=share(s.resolved for s in scores),
        fact_recall=float(np.mean(recalls)) if recalls else None,
        hallucination_rate=share(bool(s.hallucinated) for s in answered) if answered else None,
        hallucinated_facts=sum(len(s.hallucinated) for s in scores),
        echoed_context=share(s.echoed for s in answered) if answered else None,
        facts_given=share(s.given for s in gathered) if gathered else None,
        correct_when_given=share(s.correct for s in given) if given else None,
        correct_when_not_given=share(s.correct for s in not_given) if not_given else None,
        handed_over=share(s.handed_over for s in scores),
        handover_precision=true_positive / predicted if predicted else None,
        handover_recall=true_positive / actual if actual else None,
        latency_p50_s=float(np.percentile(latencies, 50)) if latencies else 0.0,
        latency_p95_s=float(np.percentile(latencies, 95)) if latencies else 0.0,
        tokens_per_s=sum(r.completion_tokens for r in records) / wall if wall else None,
        questions_per_min=60 * len(records) / wall if wall else None,
        judge=float(np.mean(judged)) if judged else None,
    )


def share(flags: Iterable[bool]) -> float:
    """The share of true flags (0 when there are none)."""
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


Scored = list[tuple[EvalItem, AnswerRecord, Score]]


def score_run(items: list[EvalItem], records: list[AnswerRecord]) -> dict[str, Scored]:
    """Score every record whose question is in `items`, grouped by set-up."""
    by_id = {item.id: item for item in items}
    grouped: dict[str, Scored] = defaultdict(list)
    for record in records:
        if (item := by_id.get(record.id)) is not None:
            grouped[record.setup].append((item, record, score(item, record)))
    return dict(grouped)


DECIDERS = ("action", "phrases", "sentences")  # assistant/handover.py: HandoverRule.signals


def compare_deciders(triples: Scored) -> dict[str, Any]:
    """Hand-over precision/recall had each rule decided the same answers (paired: one run, one text each).

    "action": the transfer_to_human marker; "phrases": `assistant.handover_phrases` (the rule before it);
    "sentences": the hand-over sentence learnt from the tickets. A hand-over made before or without
    generation (a rule, no knowledge, an empty or unsafe answer) counts for every rule alike. `paired`
    compares action with phrases on the questions where exactly one of them decided right (exact McNemar).
    """
    verdicts: dict[str, list[bool]] = {name: [] for name in DECIDERS}
    truth = [item.escalate for item, _, _ in triples]
    for _, record, _ in triples:
        signals = record.handover_signals if record.reason in (None, "model") else None
        for name in DECIDERS:
            verdicts[name].append(record.handed_over if signals is None else signals.get(name, False))
    compared: dict[str, Any] = {}
    for name, predicted in verdicts.items():
        hits = sum(p and t for p, t in zip(predicted, truth, strict=True))
        compared[name] = {
            "handed_over": sum(predicted),
            "precision": hits / sum(predicted) if any(predicted) else None,
            "recall": hits / sum(truth) if any(truth) else None,
        }
    right = {name: [p == t for p, t in zip(verdicts[name], truth, strict=True)] for name in ("action", "phrases")}
    only_action = sum(a and not p for a, p in zip(right["action"], right["phrases"], strict=True))
    only_phrases = sum(p and not a for a, p in zip(right["action"], right["phrases"], strict=True))
    discordant = only_action + only_phrases
    p_value = binomtest(only_action, discordant).pvalue if discordant else None
    compared["paired"] = {"only_action_right": only_action, "only_phrases_right": only_phrases, "p": p_value}
    return compared


def deciders_line(setup: str, compared: dict[str, Any]) -> str:
    """One line of `journey evaluate`: each hand-over rule's precision / recall on a set-up's answers."""

    def ratio(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    rules = ", ".join(
        f"{name} {ratio(compared[name]['precision'])} / {ratio(compared[name]['recall'])}" for name in DECIDERS
    )
    paired = compared["paired"]
    p = "" if paired["p"] is None else f", p = {paired['p']:.2g}"
    return (
        f"{setup}: hand-over precision / recall by {rules}; only the action right on {paired['only_action_right']}, "
        f"only the phrases on {paired['only_phrases_right']}{p}"
    )


@dataclass(frozen=True)
class SetupMetrics:
    """One set-up's metrics: over every question, and per category; and the hand-over rules compared."""

    overall: Metrics
    categories: dict[str, Metrics]
    deciders: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The form summary.json keeps."""
        return {
            "overall": self.overall.as_dict(),
            "categories": {c: m.as_dict() for c, m in self.categories.items()},
            "handover_deciders": self.deciders,
        }


def summarise(scored: dict[str, Scored], judge: Judgements | None = None) -> dict[str, SetupMetrics]:
    """Per set-up: overall metrics and metrics per category."""
    summary = {}
    for setup, triples in scored.items():
        categories: dict[str, list[tuple[AnswerRecord, Score]]] = defaultdict(list)
        for item, record, s in triples:
            categories[item.category].append((record, s))
        summary[setup] = SetupMetrics(
            overall=aggregate([(r, s) for _, r, s in triples], judge),
            categories={c: aggregate(rows, judge) for c, rows in sorted(categories.items())},
            deciders=compare_deciders(triples),
        )
    return summary
