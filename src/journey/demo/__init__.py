"""The demo companies: complete workspaces generated from templates and a seeded random generator.

Each company is its own sub-package (its facts, articles, database schema, house style, tickets
and eval set) and one row of `COMPANIES`; the writers they share live beside this file.
`create_demo_workspace` writes journey.toml, knowledge/ (Markdown, HTML, PDF articles), the
company's SQLite database under data/, data/tickets.jsonl, data/eval.jsonl and data/corpus/.
The same seed gives the same bytes.
"""

from __future__ import annotations

import random
from pathlib import Path

from journey.demo.copperwell import COPPERWELL
from journey.demo.larchkite import LARCHKITE
from journey.demo.writer import DemoCompany, write_content
from journey.errors import UserError

__all__ = ["COMPANIES", "DEFAULT_COMPANY", "DemoCompany", "create_demo_workspace", "demo_company"]

COMPANIES: dict[str, DemoCompany] = {company.key: company for company in (LARCHKITE, COPPERWELL)}
DEFAULT_COMPANY = LARCHKITE.key


def demo_company(key: str) -> DemoCompany:
    """The demo company registered as `key` (a UserError naming the known ones otherwise)."""
    if key not in COMPANIES:
        known = ", ".join(f"{k} ({c.name}, {c.business})" for k, c in COMPANIES.items())
        raise UserError(f"There is no demo company {key!r}; the demo companies are: {known}.")
    return COMPANIES[key]


def create_demo_workspace(root: Path, *, company: str = DEFAULT_COMPANY, seed: int = 0, force: bool = False) -> None:
    """Write the demo workspace of `company` into `root`, which must be missing or empty unless `force`.

    With `force`, the demo's files overwrite any of the same name; other files are left alone.
    """
    root = Path(root)
    demo = demo_company(company)
    if root.exists() and not root.is_dir():
        raise UserError(f"{root} is a file, not a folder; choose a folder for the demo workspace.")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise UserError(
            f"{root} is not empty; choose an empty or new folder for the demo workspace, "
            "or pass --force to write the demo files into it anyway."
        )

    def rng(part: str) -> random.Random:
        return random.Random(f"{seed}:{part}")  # one stream per file, so each is stable on its own

    write_content(root, demo.build(rng), rng("corpus"))
