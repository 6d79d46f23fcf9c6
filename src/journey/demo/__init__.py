"""The demo companies: complete workspaces generated from templates and a seeded random generator.

Each company is its own sub-package (its facts, articles, database schema, house style, tickets
and eval set) exporting `COMPANY`, a DemoCompany, and one row of `COMPANIES`; the writers they
share live beside this file. `create_demo_workspace` writes journey.toml, knowledge/ (Markdown,
HTML, PDF articles), the company's SQLite database under data/, data/tickets.jsonl,
data/eval.jsonl and data/corpus/. The same seed gives the same bytes.

Importing this package is cheap (the CLI lists the companies in its help): a company's
generator is imported when it is asked for.
"""

from __future__ import annotations

import importlib
import random
from pathlib import Path
from typing import TYPE_CHECKING

from journey.errors import UserError

if TYPE_CHECKING:
    from journey.demo.writer import DemoCompany

__all__ = ["COMPANIES", "DEFAULT_COMPANY", "create_demo_workspace", "demo_company"]

# registry key (the sub-package's name) -> what the company is
COMPANIES: dict[str, str] = {
    "larchkite": "Larchkite Outfitters, an online outdoor and cycling shop",
    "copperwell": "Copperwell Power & Fibre, an electricity, gas and full-fibre broadband provider",
}
DEFAULT_COMPANY = "larchkite"


def demo_company(key: str) -> DemoCompany:
    """The demo company registered as `key` (a UserError naming the known ones otherwise)."""
    if key not in COMPANIES:
        known = "; ".join(f"{k} ({what})" for k, what in COMPANIES.items())
        raise UserError(f"There is no demo company {key!r}. The demo companies are: {known}.")
    return importlib.import_module(f"journey.demo.{key}").COMPANY


def create_demo_workspace(root: Path, *, company: str = DEFAULT_COMPANY, seed: int = 0, force: bool = False) -> None:
    """Write the demo workspace of `company` into `root`, which must be missing or empty unless `force`.

    With `force`, the demo's files overwrite any of the same name; other files are left alone.
    """
    from journey.demo.writer import write_content

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
