"""Scoring without a judge: fact matching, grounding checks, hand-over precision/recall, the eval file contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from journey.errors import UserError
from journey.evaluate.evalset import EvalItem, load_evalset
from journey.evaluate.metrics import aggregate, score
from journey.evaluate.runs import AnswerRecord
from journey.facts import contains_fact, stated_facts, ungrounded


@pytest.mark.parametrize(
    ("answer", "fact", "expected"),
    [
        ("It costs €49.90 including VAT.", "49.90", True),
        ("It costs 49.9 euros.", "€49.90", True),
        ("Der Preis ist 49,90 €.", "49.90", True),
        ("That is EUR 1,299.00 in total.", "1299", True),
        ("That is 1.299,00 € in total.", "1,299.00", True),
        ("Returns are accepted within 30  DAYS.", "30 days", True),
        ("It costs €149.90.", "49.90", False),  # a longer number is not the fact
        ("It costs €49.95.", "49.9", False),
        ("Within 3 days.", "30 days", False),
        ("We add a 7 percent bonus.", "7%", True),
        ("It takes 7 days.", "7%", False),
        ("Your tracking code is px2829097.", "PX-2829097", True),
        ("Order LK-123456 is on its way.", "LK-123457", False),
    ],
)
def test_fact_matching_forgives_format_but_not_value(answer: str, fact: str, expected: bool) -> None:
    assert contains_fact(answer, fact) is expected


def test_ungrounded_finds_invented_prices_dates_codes_and_amounts() -> None:
    answer = (
        "Order LK-123456 ships with tracking code 9876543210 on 3 May 2025 and costs €12.50; "
        "you can return it within 60 days."
    )
    sources = ("Where is order LK-123456?", "status: shipped; eta_date: 2025-05-03; total: 12.5", "")
    invented = {fact.text for fact in ungrounded(answer, *sources)}
    assert invented == {"9876543210", "60 days"}


def test_grounded_answer_has_nothing_ungrounded_and_words_are_not_dates() -> None:
    answer = "The fee is 4.85 EUR, delivery takes 3 working days, and conditions may apply to 2 items."
    assert ungrounded(answer, "Standard shipping costs €4.85 and takes 3 working days.") == []


def test_a_different_year_is_not_the_same_date() -> None:
    assert [f.text for f in ungrounded("It arrives on 3 May 2026.", "eta 2025-05-03")] == ["3 May 2026"]
    assert ungrounded("It arrives on May 3.", "eta 2025-05-03") == []


def test_an_invented_email_is_ungrounded_and_a_copied_one_is_not() -> None:
    source = "customer: dana.c10422@example.com"
    answer = "I wrote to dana.c10422@example.com; you can also reach help42@example.org."
    assert [(f.kind, f.text) for f in ungrounded(answer, source)] == [("email", "help42@example.org")]


def test_stated_facts_are_what_an_answer_may_copy_without_being_ungrounded() -> None:
    source = "Order LK-123456 costs €49.90 and ships in 3 working days, on 2025-05-03; write to a.b@example.com."
    stated = stated_facts(source)
    assert {"LK-123456", "€49.90", "49.90", "3 working days", "2025-05-03", "a.b@example.com"} <= stated
    assert ungrounded(" ".join(sorted(stated)), source) == []


def record(answer: str, *, handed_over: bool = False, setup: str = "as-is", rid: str = "q") -> AnswerRecord:
    return AnswerRecord(
        id=rid,
        setup=setup,
        fingerprint="f",
        question="q?",
        answer=answer,
        handed_over=handed_over,
        wall_s=0.5,
        latency_s=1.0,
        completion_tokens=10,
    )


def test_outcomes_depend_on_the_question_kind() -> None:
    facts = EvalItem("a", "How long?", reference="30 days", facts=("30 days", "€5"))
    escalate = EvalItem("b", "I'll sue you", escalate=True)
    no_facts = EvalItem("c", "Hello?")
    half = score(facts, record("Within 30 days."))
    assert (half.correct, half.fact_recall, half.missing_facts) == (False, 0.5, ("€5",))
    full = score(facts, record("Within 30 days, for 5.00 EUR."))
    assert full.correct and full.resolved and full.fact_recall == 1
    assert not score(facts, record("Within 30 days, for €5.", handed_over=True)).correct
    assert score(escalate, record("handing over", handed_over=True)).correct
    assert not score(escalate, record("Sure, here is a refund.")).correct
    assert score(no_facts, record("Hello! How can I help?")).resolved
    assert score(no_facts, record("x")).fact_recall is None


def test_handover_precision_recall_edge_cases() -> None:
    plain = EvalItem("a", "q", facts=("x",))
    urgent = EvalItem("b", "q", escalate=True)
    never = aggregate([(record("x"), score(plain, record("x")))])
    assert never.handover_precision is None and never.handover_recall is None
    rows = [
        (record("h", handed_over=True), score(urgent, record("h", handed_over=True))),
        (record("h", handed_over=True), score(plain, record("h", handed_over=True))),
        (record("no"), score(urgent, record("no"))),
    ]
    metrics = aggregate(rows)
    assert metrics.handover_precision == 0.5 and metrics.handover_recall == 0.5
    assert metrics.questions_per_min == pytest.approx(120)
    assert metrics.tokens_per_s == pytest.approx(20)


def test_evalset_reports_bad_lines_and_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    lines = [
        json.dumps({"id": "q1", "question": "Price?", "facts": ["9.99"], "difficulty": "easy"}),
        "{broken",
        json.dumps({"id": "q2", "question": "  "}),
        json.dumps({"id": "q1", "question": "Again?"}),
        json.dumps({"question": "No facts here", "escalate": "yes"}),
        json.dumps({"question": "Hello there"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    evalset = load_evalset(path)
    assert [item.id for item in evalset.items] == ["q1", "line-6"]
    assert [p.split(": ")[0] for p in evalset.problems] == [f"{path}:{n}" for n in (2, 3, 4, 5)]
    assert evalset.ignored_fields == {"difficulty": 1}
    notes = " ".join(evalset.notes())
    assert "'difficulty'" in notes and "1 question(s) without facts are scored on hand-over only" in notes


def test_evalset_without_usable_questions_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    path.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"no usable question .*eval\.jsonl:1"):
        load_evalset(path)
    with pytest.raises(UserError, match="does not exist"):
        load_evalset(tmp_path / "missing.jsonl")


def test_an_answer_that_dumps_the_data_block_is_flagged_not_hidden() -> None:
    item = EvalItem("a", "Price?", facts=("5.00",))
    dump = score(item, record("<data>\n[1] Bike\nThe bike costs €5.00.\n</data>"))
    assert dump.correct and dump.echoed  # the fact is there; the echo is reported beside it
    assert not score(item, record("It costs €5.")).echoed
    assert aggregate([(record("x"), dump)]).echoed_context == 1.0


def test_facts_given_separates_what_retrieval_missed_from_what_the_model_did_not_read() -> None:
    from journey.assistant.records import PassageRecord

    item = EvalItem("a", "How long and how much?", facts=("30 days", "€5"))
    passage = PassageRecord(id="p1", title="Returns", source="kb", text="Returns within 30 days; the fee is 5.00 EUR.")
    half = PassageRecord(id="p2", title="Returns", source="kb", text="Returns within 30 days.")

    def given(answer: str, *passages: PassageRecord, reason: str | None = None) -> AnswerRecord:
        handed_over = reason is not None
        return record(answer, handed_over=handed_over).model_copy(update={"passages": list(passages), "reason": reason})

    read = score(item, given("Within 30 days, for €5.", passage))
    unread = score(item, given("Sorry, I do not know.", passage))
    missed = score(item, given("Within 30 days.", half))
    assert (read.given, unread.given, missed.given) == (True, True, False)
    assert score(item, given("x", reason="no-knowledge")).given is False  # knowledge on, nothing found
    assert score(item, record("Within 30 days, for €5.")).given is None  # knowledge off: nothing was gathered
    assert score(EvalItem("b", "I'll sue", escalate=True), given("h", passage, reason="model")).given is None
    rows = [(given("a", passage), read), (given("b", passage), unread), (given("c", half), missed)]
    metrics = aggregate([*rows, (record("x"), score(item, record("x")))])
    assert metrics.facts_given == pytest.approx(2 / 3)
    assert (metrics.correct_when_given, metrics.correct_when_not_given) == (0.5, 0.0)
    assert aggregate([(record("x"), score(item, record("x")))]).facts_given is None
