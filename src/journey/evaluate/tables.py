"""Plain tables rendered three ways — terminal (rich), Markdown and HTML — from one definition.

Every cell is text from users or models at some point, so every renderer escapes it:
`<script>` in an answer shows as text, never runs. The HTML one is the `table` macro
of templates/report.html (jinja2, autoescaped).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from rich.markup import escape as rich_escape
from rich.table import Table


@dataclass
class TextTable:
    """A titled table of text cells with optional notes printed under it."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def to_rich(table: TextTable) -> Table:
    out = Table(title=table.title, caption="\n".join(table.notes) or None, caption_justify="left")
    for column in table.columns:
        out.add_column(column, overflow="fold")
    for row in table.rows:
        out.add_row(*(rich_escape(cell) for cell in row))
    return out


def to_markdown(table: TextTable) -> str:
    lines = [f"### {md_escape(table.title)}", ""] if table.title else []
    lines.append("| " + " | ".join(md_escape(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in table.rows]
    lines += [""] + [f"- {md_escape(note)}" for note in table.notes] if table.notes else []
    return "\n".join(lines) + "\n"


def md_escape(text: str) -> str:
    """Text safe inside a Markdown table cell: HTML escaped, pipes and line breaks neutralised."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", "<br>")


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def pct_interval(share: float | None, n: int) -> str:
    """A share of n answers with its 95% Wilson interval: `48% (36–61%)`; a reader sees what n questions can tell."""
    if share is None or n == 0:
        return "n/a"
    from scipy.stats import binomtest

    interval = binomtest(round(share * n), n).proportion_ci(confidence_level=0.95, method="wilson")
    return f"{share:.0%} ({100 * interval.low:.0f}–{interval.high:.0%})"


def minutes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} min"


def dollars(value: float | None) -> str:
    """Money with as many decimals as a small amount needs: $1,234 · $12.30 · $0.0042."""
    if value is None:
        return "n/a"
    if value >= 100:
        return f"${value:,.0f}"
    if round(value, 2) >= 0.1:
        return f"${value:.2f}"
    return f"${value:.2g}" if value else "$0"


def seconds(value: float | None) -> str:
    """A duration in the unit that reads best: 850 ms · 12.3 s · 4.2 min · 3.1 h."""
    if value is None:
        return "n/a"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:,.1f} h"


def flops(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2g}"
