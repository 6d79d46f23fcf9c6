"""Load `data/eval.jsonl` (docs/design.md contract), reporting what could not be used instead of failing on it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from journey.errors import UserError
from journey.io import JsonlProblem, read_jsonl

KNOWN_FIELDS = {"id", "question", "reference", "facts", "escalate", "category"}
DEFAULT_CATEGORY = "uncategorised"


@dataclass(frozen=True)
class EvalItem:
    """One held-out question and what a right outcome looks like."""

    id: str
    question: str
    reference: str = ""
    facts: tuple[str, ...] = ()
    escalate: bool = False
    category: str = DEFAULT_CATEGORY

    @property
    def handover_only(self) -> bool:
        """No facts to check: the question is scored on its hand-over decision only."""
        return not self.facts and not self.escalate


@dataclass
class EvalSet:
    """The usable questions, the lines skipped (file:line: reason) and the unknown fields seen."""

    path: Path
    items: list[EvalItem]
    problems: list[str] = field(default_factory=list)
    ignored_fields: dict[str, int] = field(default_factory=dict)

    def notes(self) -> list[str]:
        """One line per thing the user should know about the file."""
        lines = [f"skipped {p}" for p in self.problems]
        if self.ignored_fields:
            fields = ", ".join(f"'{name}' ({count}×)" for name, count in sorted(self.ignored_fields.items()))
            lines.append(f"{self.path}: ignored unknown field(s) {fields}")
        if missing := sum(item.handover_only for item in self.items):
            lines.append(f"{self.path}: {missing} question(s) without facts are scored on hand-over only")
        return lines


def load_evalset(path: Path, *, limit: int | None = None) -> EvalSet:
    """Read and validate the eval file; bad lines are reported by line number and skipped."""
    items: list[EvalItem] = []
    problems: list[str] = []
    unknown: Counter[str] = Counter()
    seen: dict[str, int] = {}
    for entry in read_jsonl(path):
        if isinstance(entry, JsonlProblem):
            problems.append(str(entry))
            continue
        number, raw = entry
        try:
            item = _parse(raw, number)
        except ValueError as exc:
            problems.append(f"{path}:{number}: {exc}")
            continue
        if item.id in seen:
            problems.append(f"{path}:{number}: id '{item.id}' already used on line {seen[item.id]}")
            continue
        seen[item.id] = number
        unknown.update(set(raw) - KNOWN_FIELDS)
        items.append(item)
    if not items:
        detail = f" ({problems[0]})" if problems else ""
        raise UserError(f'{path} has no usable question{detail}. Each line needs at least a "question".')
    return EvalSet(path, items[:limit] if limit else items, problems, dict(unknown))


def _parse(raw: object, number: int) -> EvalItem:
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError('no "question" text')
    facts = raw.get("facts") or []
    if not isinstance(facts, list) or not all(isinstance(f, str | int | float) for f in facts):
        raise ValueError('"facts" must be a list of strings')
    escalate = raw.get("escalate", False)
    if not isinstance(escalate, bool):
        raise ValueError('"escalate" must be true or false')
    return EvalItem(
        id=str(raw.get("id") or f"line-{number}"),
        question=question.strip(),
        reference=str(raw.get("reference") or ""),
        facts=tuple(str(f) for f in facts if str(f).strip()),
        escalate=escalate,
        category=str(raw.get("category") or DEFAULT_CATEGORY),
    )
