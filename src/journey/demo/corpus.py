"""Plain-text domain prose (data/corpus/*.txt, about 3 MB) for training a tiny model from scratch, for any demo
company.

Seeded recombinations of the help-centre paragraphs, the company's catalogue (its own block
writer), question-and-answer prose and the past conversations retold as prose. Eval questions
are never used.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from journey.demo.content import Article, Brand
from journey.demo.knowledge import plain_text, section_text
from journey.io import atomic_write_text

_KB = 1000


def write_corpus(
    folder: Path,
    company: Brand,
    articles: list[Article],
    ticket_lines: list[str],
    rng: random.Random,
    *,
    catalogue: Callable[[random.Random], str],
    speakers: tuple[str, ...],
) -> None:
    """Write handbook.txt, catalogue.txt (blocks from `catalogue`), faq.txt and conversations.txt (customers
    called one of `speakers`, e.g. "A customer") to `folder`."""
    paragraphs = [(a, heading, section_text(body)) for a in articles for heading, body in a.sections]
    conversations = [_conversation(line) for line in ticket_lines]
    files: dict[str, tuple[Callable[[], str], int]] = {
        "handbook.txt": (lambda: _handbook_block(company, articles, paragraphs, rng), 900 * _KB),
        "catalogue.txt": (lambda: catalogue(rng), 600 * _KB),
        "faq.txt": (lambda: _faq_block(articles, rng), 650 * _KB),
        "conversations.txt": (
            lambda: _conversation_block(company, rng.choice(conversations), speakers, rng),
            900 * _KB,
        ),
    }
    for name, (make_block, size) in files.items():
        atomic_write_text(folder / name, _fill(make_block, size))


def _fill(make_block: Callable[[], str], size: int) -> str:
    blocks: list[str] = []
    total = 0
    while total < size:
        block = make_block()
        blocks.append(block)
        total += len(block) + 2
    return "\n\n".join(blocks) + "\n"


def _handbook_block(
    company: Brand, articles: list[Article], paragraphs: list[tuple[Article, str, str]], rng: random.Random
) -> str:
    """Either a whole article, or a digest of paragraphs from several articles."""
    if rng.random() < 0.5:
        article = rng.choice(articles)
        return f"{company.name} help centre: {plain_text(article)}"
    picked = rng.sample(paragraphs, rng.randint(3, 6))
    lines = [f"Things {company.short_name} customers often ask about."]
    for article, heading, body in picked:
        lead = rng.choice(("About {t}", "{t}", "On {t}", "A note on {t}")).format(t=article.topic)
        lines.append(f"{lead}, {heading.lower()}: {body}")
    return "\n".join(lines)


def _faq_block(articles: list[Article], rng: random.Random) -> str:
    article = rng.choice([a for a in articles if a.qas])  # an article may answer no question (a safety notice)
    qas = rng.sample(article.qas, rng.randint(1, len(article.qas)))
    lines = [f"Frequently asked questions about {article.topic}."]
    for qa in qas:
        lines += [f"Question: {rng.choice(qa.asks)}", f"Answer: {qa.answer}"]
    return "\n".join(lines)


def _conversation(line: str) -> list[tuple[str, str]]:
    record = json.loads(line)
    if "prompt" in record:
        return [("user", record["prompt"]), ("assistant", record["completion"])]
    return [(m["role"], m["content"]) for m in record["messages"] if m["role"] != "system"]


def _conversation_block(
    company: Brand, turns: list[tuple[str, str]], speakers: tuple[str, ...], rng: random.Random
) -> str:
    customer = rng.choice(speakers)
    said = {"user": f"{customer} wrote", "assistant": f"The {company.short_name} support team replied"}
    return "\n".join(f'{said[role]}: "{content}"' for role, content in turns)
