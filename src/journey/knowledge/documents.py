"""Read knowledge documents (.md .txt .html .pdf) into a title and heading-delimited sections.

Text that readers never see — HTML comments, alt and title attributes, hidden elements, Markdown
link titles, PDF metadata — is collected beside the sections, so indexing can check it for
instructions aimed at the assistant (knowledge/quarantine.py).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString
from markdown_it import MarkdownIt
from pypdf import PdfReader

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")
HEADING_SEPARATOR = " › "

_HTML_DROP = ("script", "style", "noscript", "template", "svg", "head")
_HTML_BLOCKS = re.compile(
    r"^(p|div|li|tr|table|ul|ol|dl|dt|dd|pre|blockquote|section|article|header|footer|nav|aside|main|br|hr)$"
)
_HEADING_TAG = re.compile(r"^h[1-6]$")
_HIDDEN_ATTRIBUTES = ("alt", "title", "aria-label", "aria-description")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d])", re.IGNORECASE)
_COMMENT = re.compile(r"<!--(.*?)-->", re.DOTALL)
_PDF_FIELDS = {"/Title": "PDF title", "/Subject": "PDF subject", "/Keywords": "PDF keywords", "/Author": "PDF author"}
logging.getLogger("pypdf").setLevel(logging.ERROR)  # a PDF pypdf cannot repair is reported as skipped


class DocumentError(Exception):
    """A document that cannot be used; the message says why."""


@dataclass(frozen=True)
class Section:
    """A stretch of a document under one heading path (e.g. "Returns › Refunds") or on one PDF page."""

    heading: str
    text: str
    location: str = ""


@dataclass(frozen=True)
class HiddenText:
    """Text of a document that no reader sees, and where it sits (e.g. "HTML comment")."""

    carrier: str
    text: str


@dataclass(frozen=True)
class Document:
    title: str
    sections: list[Section]
    hidden: tuple[HiddenText, ...] = ()


def read_document(path: Path) -> Document:
    """Parse a supported file; raise `DocumentError` if it is unreadable, corrupt or empty."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"unsupported file type {suffix or '(none)'}; supported: {' '.join(SUFFIXES)}")
    if suffix == ".pdf":
        document = _read_pdf(path)
    else:
        try:
            raw = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise DocumentError("not UTF-8 text") from None
        if suffix in (".html", ".htm"):
            document = _read_html(raw, path)
        elif suffix == ".txt":
            document = Document(title_from_name(path), [Section("", raw)])
        else:
            document = markdown_document(raw, title_from_name(path))
    sections = [s for s in document.sections if s.text.strip()]
    if not sections:
        raise DocumentError("no text in it")
    return Document(document.title, sections, document.hidden)


def title_from_name(path: Path) -> str:
    """`shipping-and_returns.md` -> "Shipping and returns"."""
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize() or path.name


def markdown_document(source: str, fallback_title: str) -> Document:
    """Split Markdown at its headings; the first level-1 heading (if any) is the title."""
    lines = source.splitlines()
    tokens = MarkdownIt("commonmark").parse(source)
    headings = [
        (opened.map, int(opened.tag[1]), inline.content.strip())
        for opened, inline in pairwise(tokens)
        if opened.type == "heading_open" and opened.map
    ]
    title = next((name for _, level, name in headings if level == 1 and name), fallback_title)
    hidden = [HiddenText("HTML comment", text) for text in _COMMENT.findall(source)]
    hidden += [
        HiddenText(f"Markdown {child.type.removesuffix('_open')} title", str(child.attrs["title"]))
        for token in tokens
        for child in token.children or []
        if child.attrs.get("title")
    ]
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    start = 0
    for (first, last), level, name in headings:
        sections.append(_section(stack, lines[start:first]))
        stack = [entry for entry in stack if entry[0] < level]
        if not (level == 1 and name == title):
            stack.append((level, name))
        start = last
    sections.append(_section(stack, lines[start:]))
    return Document(title, sections, tuple(hidden))


def _section(stack: list[tuple[int, str]], lines: list[str]) -> Section:
    return Section(HEADING_SEPARATOR.join(name for _, name in stack), "\n".join(lines))


def _read_html(raw: str, path: Path) -> Document:
    """Strip scripts and styles, keep block structure, and section the text at h1–h6."""
    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    hidden = _html_hidden(soup)
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    for string in soup.find_all(string=True):
        if type(string) is NavigableString:  # not comments, doctypes, CDATA
            string.replace_with(re.sub(r"\s+", " ", string))
    for heading in soup.find_all(_HEADING_TAG):
        heading.replace_with(f"\n\n{'#' * int(heading.name[1])} {heading.get_text(' ', strip=True)}\n\n")
    for block in soup.find_all(_HTML_BLOCKS):
        block.insert_after("\n\n")
    document = markdown_document(soup.get_text(), title or title_from_name(path))
    return Document(document.title, document.sections, (*hidden, *document.hidden))


def _html_hidden(soup: BeautifulSoup) -> list[HiddenText]:
    """Comments, alt/title/aria attributes, meta descriptions and elements hidden by style."""
    hidden = [HiddenText("HTML comment", str(c)) for c in soup.find_all(string=lambda s: isinstance(s, Comment))]
    for tag in soup.find_all(True):
        hidden += [HiddenText(f"{name} attribute", str(tag[name])) for name in _HIDDEN_ATTRIBUTES if tag.get(name)]
        if tag.name == "meta" and tag.get("content") and tag.get("name", "").lower() in ("description", "keywords"):
            hidden.append(HiddenText(f"meta {tag['name'].lower()}", str(tag["content"])))
        if tag.has_attr("hidden") or _HIDDEN_STYLE.search(str(tag.get("style", ""))):
            hidden.append(HiddenText("hidden element", tag.get_text(" ", strip=True)))
    return [h for h in hidden if h.text.strip()]


def _read_pdf(path: Path) -> Document:
    """One section per page; the PDF's own title if it has one."""
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        metadata = reader.metadata or {}
        title = (reader.metadata.title if reader.metadata else None) or title_from_name(path)
        hidden = [HiddenText(name, str(metadata[key])) for key, name in _PDF_FIELDS.items() if key in metadata]
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise DocumentError(f"unreadable PDF ({type(exc).__name__}: {exc})") from None
    if not any(page.strip() for page in pages):
        raise DocumentError("the PDF has no extractable text (scanned images?)")
    sections = [Section("", text, f"page {n}") for n, text in enumerate(pages, start=1)]
    return Document(title.strip(), sections, tuple(hidden))
