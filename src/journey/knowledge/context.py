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


@dataclass(frozen=True)
class LookupResult:
    """The rows a declared, read-only lookup returned for parameters found in the question."""

    name: str
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    description: str = ""


@dataclass(frozen=True)
class Context:
    """Everything knowledge adds to a prompt, plus whether retrieval is confident enough to answer."""

    passages: list[Passage] = field(default_factory=list)
    lookups: list[LookupResult] = field(default_factory=list)

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
