"""Render any demo company's help-centre articles to files under knowledge/: Markdown, HTML and PDF."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF

from journey.demo.content import Article, Brand, Table
from journey.demo.files import atomic_write_bytes
from journey.io import atomic_write_text


def write_knowledge(folder: Path, articles: list[Article], company: Brand) -> None:
    """Write every article to `folder`, in the format its path's extension names."""
    for article in articles:
        target = folder / article.path
        if target.suffix == ".md":
            atomic_write_text(target, render_markdown(article, company))
        elif target.suffix == ".html":
            atomic_write_text(target, render_html(article, company))
        elif target.suffix == ".pdf":
            atomic_write_bytes(target, render_pdf(article, company))
        else:
            raise ValueError(f"unsupported article format: {article.path}")


def plain_text(article: Article) -> str:
    """The article as plain prose (title, headings, paragraphs; table rows as sentences)."""
    parts = [article.title]
    for heading, body in article.sections:
        parts.append(heading)
        parts.append(section_text(body))
    return "\n\n".join(parts)


def render_markdown(article: Article, company: Brand) -> str:
    lines = [f"# {article.title}", ""]
    for heading, body in _with_footer(article, company):
        lines += [f"## {heading}", ""]
        if isinstance(body, str):
            lines += [body, ""]
        else:
            lines += [f"| {' | '.join(body[0])} |", "|" + "---|" * len(body[0])]
            lines += [f"| {' | '.join(row)} |" for row in body[1:]]
            lines.append("")
    return "\n".join(lines)


def render_html(article: Article, company: Brand) -> str:
    esc = html.escape
    body: list[str] = [f"<h1>{esc(article.title)}</h1>"]
    for heading, content in _with_footer(article, company):
        body.append(f"<h2>{esc(heading)}</h2>")
        if isinstance(content, str):
            body.append(f"<p>{esc(content)}</p>")
        else:
            head = "".join(f"<th>{esc(cell)}</th>" for cell in content[0])
            rows = "".join(
                "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>\n" for row in content[1:]
            )
            body.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{esc(article.title)} | {esc(company.name)}</title>\n</head>\n<body>\n"
        f"<nav>{esc(company.name)} help centre</nav>\n<main>\n" + "\n".join(body) + "\n</main>\n"
        f"<footer>{esc(company.name)}, {esc(company.address)}</footer>\n</body>\n</html>\n"
    )


def render_pdf(article: Article, company: Brand) -> bytes:
    """A one-article PDF in a core font; the creation date is fixed so the bytes are reproducible."""
    pdf = FPDF()
    pdf.set_creation_date(datetime(2025, 1, 1, tzinfo=UTC))
    pdf.set_title(article.title)
    pdf.set_author(company.name)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.multi_cell(0, 9, _latin1(article.title), new_x="LMARGIN", new_y="NEXT")
    for heading, body in _with_footer(article, company):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin1(heading), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _latin1(section_text(body)), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _with_footer(article: Article, company: Brand) -> tuple[tuple[str, str | Table], ...]:
    """The article's sections plus the help centre's standard closing section."""
    footer = f"Call {company.phone} ({company.support_hours}) or write to {company.email}."
    return (*article.sections, ("Still need help?", footer))


def section_text(body: str | Table) -> str:
    """A section's body as prose: a table becomes one "header: cell; ..." line per row."""
    if isinstance(body, str):
        return body
    header, *rows = body
    return "\n".join("; ".join(f"{h}: {cell}" for h, cell in zip(header, row, strict=True)) for row in rows)


def _latin1(text: str) -> str:
    """Core PDF fonts cover Latin-1 only: spell out the euro sign."""
    return text.replace("€", "EUR ")

