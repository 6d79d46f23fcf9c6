"""Guards: validate the customer's text and match the escalation rules on the way in; on the way out,
refuse an answer that repeats an instruction planted in its context."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from journey.errors import UserError
from journey.knowledge.context import Context
from journey.knowledge.quarantine import instruction_spans
from journey.workspace import EscalationRule

RUN_WORDS = 3  # a shared run of this many words…
RUN_CHARS = 12  # …and at least this many characters counts as repeated text
_WORD = re.compile(r"\w+")
_CODE = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*(?![\w-])")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ \t]+[A-Z][a-z]+)+\b")  # a capitalised name: Captain Insure, Camp Kestrel


@dataclass(frozen=True)
class GuardedInput:
    """A question ready for the pipeline, with any warnings raised on the way."""

    text: str
    warnings: tuple[str, ...] = ()


def guard_question(question: str, *, max_chars: int) -> GuardedInput:
    """Reject an empty question; cut one that is longer than `max_chars` (with a warning)."""
    text = " ".join(question.split())
    if not text:
        raise UserError("The question is empty.")
    if len(text) <= max_chars:
        return GuardedInput(text)
    warning = f"The question was {len(text)} characters long; only the first {max_chars} were used."
    return GuardedInput(text[:max_chars], (warning,))


def match_escalation(text: str, rules: list[EscalationRule]) -> EscalationRule | None:
    """The first rule one of whose keywords occurs in `text` as whole words (case-insensitive)."""
    for rule in rules:
        for keyword in rule.keywords:
            if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, flags=re.IGNORECASE):
                return rule
    return None


def repeats_instruction(answer: str, context: Context | None, trusted: Iterable[str]) -> bool:
    """True when `answer` carries text found only in instruction-like spans of its context.

    The spans are the instruction-like sentences (knowledge/quarantine.py) of every passage, withheld
    passage and live record. Text counts when a code-like string (letters and digits, e.g. ECO-8842),
    a capitalised name of two or more words (a persona: "Captain Insure") or a run of `RUN_WORDS`
    words occurs in such a span and nowhere in `trusted` (the question, the system prompt) or in the
    rest of the context: the model is following the span, not using facts.
    """
    if context is None:
        return False
    records = [f"{p.title}\n{p.text}" for p in [*context.passages, *context.withheld]]
    records += ["\n".join(f"{k}: {v}" for row in r.rows for k, v in row.items()) for r in context.lookups]
    suspect, clean = [], list(trusted)
    for record in records:
        spans = instruction_spans(record)
        suspect += spans
        for span in spans:
            record = record.replace(span, " ")
        clean.append(record)
    if not suspect:
        return False
    planted = _codes(suspect) - _codes(clean)
    if _codes([answer]) & planted:
        return True
    runs = {run for run in _runs(suspect) - _runs(clean) if len(" ".join(run)) >= RUN_CHARS}
    return bool(_runs([answer]) & runs)


def _codes(texts: Iterable[str]) -> set[str]:
    return {code.lower() for text in texts for pattern in (_CODE, _NAME) for code in pattern.findall(text)}


def _runs(texts: Iterable[str]) -> set[tuple[str, ...]]:
    runs = set()
    for text in texts:
        words = _WORD.findall(text.lower())
        runs.update(tuple(words[i : i + RUN_WORDS]) for i in range(len(words) - RUN_WORDS + 1))
    return runs
