"""Input guards: validate the customer's text and match the workspace's escalation rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

from journey.errors import UserError
from journey.workspace import EscalationRule


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
