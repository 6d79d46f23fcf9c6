"""Plain-text domain prose (data/corpus/*.txt, about 3 MB) for training a tiny model from scratch.

Seeded recombinations of the help-centre paragraphs, the catalogue, question-and-answer
prose and the past conversations retold as prose. Eval questions are never used.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from journey.demo import style
from journey.demo.articles import Article
from journey.demo.company import Company, Product
from journey.demo.knowledge import plain_text, section_text
from journey.io import atomic_write_text

_KB = 1000


def write_corpus(
    folder: Path,
    company: Company,
    articles: list[Article],
    products: list[Product],
    ticket_lines: list[str],
    rng: random.Random,
) -> None:
    """Write handbook.txt, catalogue.txt, faq.txt and conversations.txt to `folder`."""
    paragraphs = [(a, heading, section_text(body)) for a in articles for heading, body in a.sections]
    conversations = [_conversation(line) for line in ticket_lines]
    files: dict[str, tuple[Callable[[], str], int]] = {
        "handbook.txt": (lambda: _handbook_block(company, articles, paragraphs, rng), 900 * _KB),
        "catalogue.txt": (lambda: _catalogue_block(company, rng.choice(products), rng), 600 * _KB),
        "faq.txt": (lambda: _faq_block(articles, rng), 650 * _KB),
        "conversations.txt": (lambda: _conversation_block(company, rng.choice(conversations), rng), 900 * _KB),
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
    company: Company, articles: list[Article], paragraphs: list[tuple[Article, str, str]], rng: random.Random
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


def _catalogue_block(company: Company, product: Product, rng: random.Random) -> str:
    sentences = [
        style.product_overview(product),
        style.product_price(product),
        style.product_weight(product),
        style.product_warranty(product),
        f"You will find the {product.name} in the {product.category} section of the {company.name} shop.",
        f"The SKU of the {product.name} is {product.sku}.",
    ]
    rng.shuffle(sentences)
    return " ".join(sentences[: rng.randint(3, len(sentences))])


def _faq_block(articles: list[Article], rng: random.Random) -> str:
    article = rng.choice(articles)
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


def _conversation_block(company: Company, turns: list[tuple[str, str]], rng: random.Random) -> str:
    customer = rng.choice(("A customer", "A rider", "A hiker", "Someone"))
    said = {"user": f"{customer} wrote", "assistant": f"The {company.short_name} support team replied"}
    return "\n".join(f'{said[role]}: "{content}"' for role, content in turns)
