"""Document parsing and token-sized chunking (with the embedding model's real tokenizer)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from journey.knowledge.chunking import Chunker
from journey.knowledge.documents import DocumentError, Section, read_document
from journey.knowledge.embeddings import BUNDLED, model_location


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(model_location(BUNDLED))


def tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def test_chunks_fit_the_budget_break_between_sentences_and_overlap(tokenizer) -> None:
    sentences = [f"Sentence number {n} explains one more detail of the refund policy." for n in range(40)]
    chunks = Chunker(tokenizer, max_tokens=60, overlap=20).split([Section("Refunds", " ".join(sentences))])

    assert len(chunks) > 5
    assert all(tokens(tokenizer, c.text) <= 60 and c.heading == "Refunds" for c in chunks)
    assert all(c.text.startswith("Sentence number") and c.text.endswith("policy.") for c in chunks)
    for before, after in pairwise(chunks):
        assert after.text.split(". ")[0] + "." in before.text  # the next chunk repeats the previous one's tail
    assert all(any(s in c.text for c in chunks) for s in sentences)


def test_chunks_never_cross_headings_and_keep_list_lines(tokenizer) -> None:
    sections = [Section("A", "Short one."), Section("B", "- first item\n- second item\n\nClosing words.")]
    chunks = Chunker(tokenizer, max_tokens=100, overlap=10).split(sections)

    assert [(c.heading, c.text) for c in chunks] == [
        ("A", "Short one."),
        ("B", "- first item\n- second item\n\nClosing words."),
    ]


def test_an_over_long_sentence_is_cut_into_overlapping_windows(tokenizer) -> None:
    words = " ".join(f"word{n}" for n in range(200))
    chunks = Chunker(tokenizer, max_tokens=50, overlap=10).split([Section("", words)])

    assert len(chunks) > 1 and all(tokens(tokenizer, c.text) <= 50 for c in chunks)
    assert chunks[0].text.startswith("word0") and chunks[-1].text.endswith("word199")


def test_markdown_sections_follow_the_heading_path(tmp_path: Path) -> None:
    path = tmp_path / "care-guide.md"
    path.write_text("# Care guide\n\nIntro.\n\n## Washing\n\nWash cold.\n\n### Drying\n\nHang dry.\n\n"
                    "```\n# not a heading\n```\n\n## Storing\n\nKeep dry.\n")  # fmt: skip

    document = read_document(path)

    assert document.title == "Care guide"
    assert [(s.heading, s.text.strip()) for s in document.sections] == [
        ("", "Intro."),
        ("Washing", "Wash cold."),
        ("Washing › Drying", "Hang dry.\n\n```\n# not a heading\n```"),
        ("Storing", "Keep dry."),
    ]


def test_html_loses_scripts_styles_comments_and_doctype(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<!doctype html><html><head><title>T</title><style>p{}</style></head><body><!-- hidden -->"
                    "<script>evil()</script><h2>Hours</h2><p>Open\n   <b>9</b> to 5.</p></body></html>")  # fmt: skip

    document = read_document(path)

    assert document.title == "T"
    assert [(s.heading, s.text.strip()) for s in document.sections] == [("Hours", "Open 9 to 5.")]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("scan.pdf", b"%PDF-1.4 garbage", "unreadable PDF"),
        ("latin.txt", "caf\u00e9".encode("latin-1"), "not UTF-8"),
        ("blank.md", b"# \n\n   \n", "no text"),
        ("sheet.xlsx", b"PK", "unsupported file type .xlsx"),
    ],
)
def test_unusable_documents_raise_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DocumentError, match=reason):
        read_document(tmp_path / name)
