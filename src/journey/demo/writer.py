"""What a demo company's generator hands over (DemoContent) and how any company's workspace is written.

A company is one row of the registry in journey/demo/__init__.py; its sub-package's COMPANY, a
DemoCompany, has a `build` that turns seeded random streams into DemoContent; `write_content`
writes journey.toml, knowledge/, the SQLite database, tickets.jsonl, eval.jsonl and the corpus
the same way for every company.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from journey.demo.config import ConfigSpec, render_config
from journey.demo.content import Article, Brand
from journey.demo.corpus import write_corpus
from journey.demo.files import atomic_write_bytes
from journey.demo.knowledge import write_knowledge
from journey.io import atomic_write_text
from journey.workspace import CONFIG_NAME

Streams = Callable[[str], random.Random]  # one seeded random stream per part, so each file is stable on its own


@dataclass(frozen=True)
class DemoContent:
    """Everything a demo workspace holds, generated."""

    config: ConfigSpec
    brand: Brand
    articles: list[Article]
    database: bytes  # SQLite, written to config.database_path
    tickets: list[str]  # tickets.jsonl lines
    eval_lines: list[str]
    catalogue: Callable[[random.Random], str]  # one block of the corpus's catalogue.txt
    speakers: tuple[str, ...]  # how the corpus calls a customer: "A customer", "A rider"


@dataclass(frozen=True)
class PriceProbe:
    """Which price the demo's freshness test raises: the first row (by `key_column`) of `table`."""

    database: str
    table: str
    key_column: str
    name_column: str
    price_column: str
    question: str  # with {name}


@dataclass(frozen=True)
class DemoCompany:
    """One demo company: its name (the journey.toml's project name), its generator, and its freshness test's
    price."""

    name: str
    build: Callable[[Streams], DemoContent]
    probe: PriceProbe


def write_content(root: Path, content: DemoContent, corpus_rng: random.Random) -> None:
    """Write the demo workspace's files into `root` (the demo's own names; other files are left alone)."""
    atomic_write_text(root / CONFIG_NAME, render_config(content.config))
    write_knowledge(root / "knowledge", content.articles, content.brand)
    atomic_write_bytes(root / content.config.database_path, content.database)
    atomic_write_text(root / "data" / "tickets.jsonl", "\n".join(content.tickets) + "\n")
    atomic_write_text(root / "data" / "eval.jsonl", "\n".join(content.eval_lines) + "\n")
    write_corpus(
        root / "data" / "corpus", content.brand, content.articles, content.tickets, corpus_rng,
        catalogue=content.catalogue, speakers=content.speakers,
    )  # fmt: skip
