"""What every demo company's generator fills in: help-centre articles, lookups and the identity the writers print.

The writers (knowledge.py, corpus.py, config.py, records.py) take these types, so a company's
sub-package holds only its content.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

Table = tuple[tuple[str, ...], ...]  # rows of cells; the first row is the header


class Brand(Protocol):
    """Who the company is, as the knowledge files and the corpus print it."""

    @property
    def name(self) -> str: ...
    @property
    def short_name(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def support_hours(self) -> str: ...
    @property
    def address(self) -> str: ...


@dataclass(frozen=True)
class QA:
    """One question an article answers: `asks` (several phrasings) feed the tickets, `eval_question` (a phrasing
    used nowhere else) the eval set; `facts` are the exact strings a correct answer quotes."""

    answer: str
    facts: tuple[str, ...]
    asks: tuple[str, ...]
    eval_question: str | None = None


@dataclass(frozen=True)
class Article:
    """One help-centre document; `path` (under knowledge/) picks the format by its extension."""

    path: str
    title: str
    topic: str
    sections: tuple[tuple[str, str | Table], ...]
    qas: tuple[QA, ...] = ()

    @property
    def category(self) -> str:
        """The eval category of this article's questions."""
        return "troubleshooting" if self.path.startswith("troubleshooting/") else "policy"


@dataclass(frozen=True)
class LookupSpec:
    """A named, parameterised, read-only query (rendered into journey.toml); `requires`: the identity
    fields (columns of its result) a served caller must have verified to get its rows."""

    name: str
    sql: str
    params: dict[str, str]
    description: str
    requires: tuple[str, ...] = ()
