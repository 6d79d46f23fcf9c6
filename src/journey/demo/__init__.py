"""The demo company: a complete workspace for Larchkite Outfitters, an online outdoor and cycling shop.

`create_demo_workspace` writes journey.toml, knowledge/ (Markdown, HTML, PDF articles),
data/shop.sqlite (catalogue, CRM, orders), data/tickets.jsonl, data/eval.jsonl and
data/corpus/. Everything is generated from templates and a seeded random generator, so
the same seed gives the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

from journey.demo.articles import build_articles
from journey.demo.company import Company, Policy
from journey.demo.config import SYSTEM_PROMPT, render_config
from journey.demo.corpus import write_corpus
from journey.demo.database import build_shop_data, write_database
from journey.demo.evalset import build_eval_set
from journey.demo.knowledge import write_knowledge
from journey.demo.tickets import build_tickets
from journey.errors import UserError
from journey.io import atomic_write_text
from journey.workspace import CONFIG_NAME

__all__ = ["create_demo_workspace"]


def create_demo_workspace(root: Path, *, seed: int = 0, force: bool = False) -> None:
    """Write the demo workspace into `root`, which must be missing or empty unless `force`.

    With `force`, the demo's files overwrite any of the same name; other files are left alone.
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is a file, not a folder; choose a folder for the demo workspace.")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise UserError(
            f"{root} is not empty; choose an empty or new folder for the demo workspace, "
            "or pass --force to write the demo files into it anyway."
        )

    def rng(part: str) -> random.Random:
        return random.Random(f"{seed}:{part}")  # one stream per file, so each is stable on its own

    company, policy = Company(), Policy()
    articles = build_articles(company, policy)
    data = build_shop_data(company, policy, rng("database"))
    evalset = build_eval_set(company, articles, data, rng("eval"))
    tickets = build_tickets(
        company, articles, data, rng("tickets"),
        system_prompt=SYSTEM_PROMPT, held_out_orders=evalset.orders, held_out_customers=evalset.customers,
    )  # fmt: skip

    atomic_write_text(root / CONFIG_NAME, render_config(company))
    write_knowledge(root / "knowledge", articles, company)
    write_database(root / "data" / "shop.sqlite", data)
    atomic_write_text(root / "data" / "tickets.jsonl", "\n".join(tickets) + "\n")
    atomic_write_text(root / "data" / "eval.jsonl", "\n".join(evalset.lines) + "\n")
    write_corpus(root / "data" / "corpus", company, articles, data.products, tickets, rng("corpus"))
