"""What knowledge gives the assistant for one question: passages and live lookup results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of a document or a rendered table row."""

    id: str
    title: str
    source: str
    text: str
    score: float = 0.0
    quarantine: str = ""  # why the passage is kept out of prompts (knowledge/quarantine.py); "" when it is used


@dataclass(frozen=True)
class LookupResult:
    """The rows a declared, read-only lookup returned for parameters found in the question."""

    name: str
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    description: str = ""


@dataclass(frozen=True)
class Context:
    """Everything knowledge adds to a prompt, plus whether retrieval is confident enough to answer.

    `withheld` holds the quarantined passages retrieval found: never in a prompt, but the output
    check (assistant/guards.py) refuses an answer that repeats their instructions."""

    passages: list[Passage] = field(default_factory=list)
    lookups: list[LookupResult] = field(default_factory=list)
    withheld: list[Passage] = field(default_factory=list)

    @classmethod
    def of(cls, passages: list[Passage], lookups: list[LookupResult]) -> Context:
        """A context from retrieved passages: the quarantined ones are withheld from the prompt."""
        used = [p for p in passages if not p.quarantine]
        return cls(used, lookups, [p for p in passages if p.quarantine])

    @property
    def confident(self) -> bool:
        """True when a lookup returned rows or at least one passage cleared the score threshold."""
        return bool(self.passages) or any(result.rows for result in self.lookups)

    @property
    def citations(self) -> list[str]:
        """Human-readable ids of everything given to the model, in prompt order."""
        cited = [f"{p.title} [{p.id}]" for p in self.passages]
        cited += [f"lookup:{r.name}({', '.join(f'{k}={v}' for k, v in r.params.items())})" for r in self.lookups]
        return cited
