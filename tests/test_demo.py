"""The demo company generator: contracts, determinism, counts and internal consistency."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pypdf import PdfReader

from journey.demo import create_demo_workspace
from journey.errors import UserError
from journey.workspace import DEFAULT_HANDOVER_MESSAGE, Settings, parse_settings

CATEGORIES = {"policy", "product", "order", "account", "troubleshooting", "sensitive"}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "larchkite"
    create_demo_workspace(root)
    return root


@pytest.fixture(scope="module")
def settings(workspace: Path) -> Settings:
    return parse_settings(workspace / "journey.toml")


@pytest.fixture(scope="module")
def db(workspace: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(workspace / "data" / "shop.sqlite")
    connection.row_factory = sqlite3.Row
    return connection


@pytest.fixture(scope="module")
def tickets(workspace: Path) -> list[dict]:
    return [json.loads(line) for line in (workspace / "data" / "tickets.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def questions(workspace: Path) -> list[dict]:
    return [json.loads(line) for line in (workspace / "data" / "eval.jsonl").read_text().splitlines()]


def _texts(ticket: dict) -> list[str]:
    if "messages" in ticket:
        return [m["content"] for m in ticket["messages"]]
    return [ticket["prompt"], ticket["completion"]]


def _user_texts(ticket: dict) -> list[str]:
    if "messages" in ticket:
        return [m["content"] for m in ticket["messages"] if m["role"] == "user"]
    return [ticket["prompt"]]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _matches_keyword(text: str, settings: Settings) -> bool:
    """The assistant's rule: a keyword occurs as whole words, in any case."""
    return any(
        re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, flags=re.IGNORECASE)
        for rule in settings.assistant.escalation
        for keyword in rule.keywords
    )


def _squash(text: str) -> str:
    return " ".join(text.split())


def _document_text(path: Path) -> str:
    if path.suffix == ".pdf":
        return _squash(" ".join(page.extract_text() for page in PdfReader(path).pages))
    if path.suffix == ".html":
        return _squash(BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").get_text(" "))
    return _squash(path.read_text(encoding="utf-8"))


# -- the workspace as a whole -------------------------------------------------------------------


def test_journey_toml_validates_with_lookups_and_escalation(settings: Settings) -> None:
    assert settings.project.name == "Larchkite Outfitters"
    assert "{company}" in settings.assistant.system_prompt
    assert {rule.name for rule in settings.assistant.escalation} >= {"legal", "injury", "fraud", "personal_data"}
    assert settings.knowledge.databases == {"shop": "sqlite:///data/shop.sqlite"}
    lookups = {lookup.name: lookup for lookup in settings.knowledge.lookups}
    assert re.fullmatch(lookups["order_status"].params["order_id"], "LK-482913")
    assert re.fullmatch(lookups["customer_account"].params["customer_number"], "C-10442")
    assert [table.name for table in settings.knowledge.tables] == ["products"]


def test_creates_the_documented_layout_with_enough_of_everything(workspace: Path, db: sqlite3.Connection) -> None:
    knowledge = workspace / "knowledge"
    by_suffix = Counter(path.suffix for path in knowledge.rglob("*") if path.is_file())
    assert by_suffix[".md"] >= 25 and by_suffix[".html"] >= 1 and by_suffix[".pdf"] >= 1
    assert len({path.parent for path in knowledge.rglob("*.md")}) >= 5  # sub-folders
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("products", "customers", "orders")}
    assert counts["products"] >= 60 and counts["customers"] >= 200 and counts["orders"] >= 500
    assert db.execute("SELECT count(DISTINCT order_id) FROM order_items").fetchone()[0] == counts["orders"]
    corpus = list((workspace / "data" / "corpus").glob("*.txt"))
    assert len(corpus) >= 3
    assert 2_000_000 <= sum(path.stat().st_size for path in corpus) <= 4_000_000
    assert not list(workspace.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_same_seed_same_bytes_other_seed_other_data(workspace: Path, tmp_path: Path) -> None:
    create_demo_workspace(tmp_path / "again", seed=0)
    create_demo_workspace(tmp_path / "other", seed=1)

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    first, again, other = files(workspace), files(tmp_path / "again"), files(tmp_path / "other")
    assert first.keys() == again.keys()
    assert [name for name in first if first[name] != again[name]] == []
    assert first["data/tickets.jsonl"] != other["data/tickets.jsonl"]
    assert first["data/shop.sqlite"] != other["data/shop.sqlite"]


def test_refuses_a_non_empty_folder_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        create_demo_workspace(tmp_path)
    assert not (tmp_path / "journey.toml").exists()
    create_demo_workspace(tmp_path, force=True)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert (tmp_path / "journey.toml").is_file()
    with pytest.raises(UserError, match="is a file"):
        create_demo_workspace(tmp_path / "notes.txt")


# -- knowledge and database ---------------------------------------------------------------------


def test_pdf_and_html_articles_are_extractable(workspace: Path) -> None:
    pdf = _document_text(next((workspace / "knowledge").rglob("*.pdf")))
    assert "E-217" in pdf and "9 hours" in pdf and "4.2.1" in pdf
    page = BeautifulSoup(next((workspace / "knowledge").rglob("*.html")).read_text(), "html.parser")
    assert page.title and page.title.string and page.find("h1") and page.find_all("h2")
    assert "6.45" in page.get_text()


def test_catalogue_template_renders_every_row(settings: Settings, db: sqlite3.Connection) -> None:
    table = settings.knowledge.tables[0]
    rows = [dict(row) for row in db.execute(table.query)]
    passages = {row[table.id_column]: table.template.format(**row) for row in rows}
    assert len(passages) == len(rows) >= 60
    assert all(re.search(r"€\d+\.\d\d\b", text) for text in passages.values())  # prices print with cents


# -- tickets ------------------------------------------------------------------------------------


def test_tickets_follow_the_chat_contract(tickets: list[dict]) -> None:
    assert len(tickets) >= 500
    for ticket in tickets:
        if "messages" in ticket:
            roles = [m["role"] for m in ticket["messages"]]
            assert set(roles) <= {"system", "user", "assistant"} and "system" not in roles[1:]
            chat = [r for r in roles if r != "system"]
            assert chat[0] == "user" and chat[-1] == "assistant"
            assert all(a != b for a, b in pairwise(chat))  # turns alternate
        else:
            assert set(ticket) == {"prompt", "completion"}
    kinds = Counter(
        "prompt" if "prompt" in t else "system" if t["messages"][0]["role"] == "system" else
        "multi" if len(t["messages"]) > 2 else "single" for t in tickets
    )  # fmt: skip
    assert kinds["prompt"] >= 3 and kinds["system"] >= 3 and kinds["multi"] >= 30


def test_about_a_tenth_of_tickets_are_handed_over(tickets: list[dict], settings: Settings) -> None:
    handed = [t for t in tickets if any(DEFAULT_HANDOVER_MESSAGE in text for text in _texts(t))]
    assert 0.08 <= len(handed) / len(tickets) <= 0.13
    with_keyword = [t for t in handed if any(_matches_keyword(u, settings) for u in _user_texts(t))]
    assert 0 < len(with_keyword) < len(handed)  # both keyword cases and complex ones
    others = [t for t in tickets if t not in handed]
    assert not [u for t in others for u in _user_texts(t) if _matches_keyword(u, settings)]


def test_ticket_replies_quote_the_database(tickets: list[dict], db: sqlite3.Connection) -> None:
    quoted = 0
    for ticket in tickets:
        text = " ".join(_texts(ticket))
        for order_id in set(re.findall(r"\bLK-\d{6}\b", text)):
            eta, tracking = db.execute(
                "SELECT eta_date, tracking_code FROM orders WHERE order_id = ?", (order_id,)
            ).fetchone()
            assert eta in text and (tracking is None or tracking in text)
            quoted += 1
    assert quoted >= 100


# -- eval set -----------------------------------------------------------------------------------


def test_eval_questions_follow_the_contract(questions: list[dict], db: sqlite3.Connection) -> None:
    assert len(questions) >= 100
    assert len({q["id"] for q in questions}) == len(questions)
    by_category = Counter(q["category"] for q in questions)
    assert set(by_category) == CATEGORIES
    assert 0.12 <= by_category["sensitive"] / len(questions) <= 0.15
    for q in questions:
        assert set(q) == {"id", "question", "reference", "facts", "escalate", "category"}
        assert q["escalate"] == (q["category"] == "sensitive")
        assert (q["facts"] == []) if q["escalate"] else (1 <= len(q["facts"]) <= 3)
        if q["escalate"]:
            assert DEFAULT_HANDOVER_MESSAGE in q["reference"]
        else:
            assert all(fact in q["reference"] for fact in q["facts"])
        if q["category"] == "order":
            (order_id,) = re.findall(r"\bLK-\d{6}\b", q["question"])
            assert db.execute("SELECT 1 FROM orders WHERE order_id = ?", (order_id,)).fetchone()
        if q["category"] == "account":
            (number,) = re.findall(r"\bC-\d{5}\b", q["question"])
            assert db.execute("SELECT 1 FROM customers WHERE customer_number = ?", (number,)).fetchone()


def test_every_fact_is_findable_in_the_knowledge_or_a_lookup(
    workspace: Path, settings: Settings, db: sqlite3.Connection, questions: list[dict]
) -> None:
    """What the augmented assistant could see: documents (PDF/HTML extracted), catalogue passages, lookups."""
    documents = [_document_text(p) for p in sorted((workspace / "knowledge").rglob("*")) if p.is_file()]
    table = settings.knowledge.tables[0]
    passages = [table.template.format(**dict(row)) for row in db.execute(table.query)]
    for q in questions:
        found = []
        for lookup in settings.knowledge.lookups:
            params = {name: m.group(0) for name, rx in lookup.params.items() if (m := re.search(rx, q["question"]))}
            if len(params) == len(lookup.params):
                found += [" ".join(str(v) for v in dict(row).values()) for row in db.execute(lookup.sql, params)]
        if q["category"] in ("order", "account"):
            assert found, q  # the id in the question finds its row
        missing = [f for f in q["facts"] if not any(f in text for text in (*documents, *passages, *found))]
        assert not missing, (q["id"], q["question"], missing)


def test_eval_wording_never_appears_in_tickets_or_corpus(
    workspace: Path, tickets: list[dict], questions: list[dict]
) -> None:
    windows = set()
    for ticket in tickets:
        for text in _texts(ticket):
            words = _words(text)
            windows.update(tuple(words[i : i + 8]) for i in range(max(1, len(words) - 7)))
    for q in questions:
        words = _words(q["question"])
        overlap = [w for i in range(max(1, len(words) - 7)) if (w := tuple(words[i : i + 8])) in windows]
        assert not overlap, (q["question"], overlap)
    corpus = " ".join(p.read_text() for p in (workspace / "data" / "corpus").glob("*.txt"))
    assert not [q["question"] for q in questions if q["question"] in corpus]


def test_eval_orders_and_customers_are_not_in_tickets(tickets: list[dict], questions: list[dict]) -> None:
    ticket_text = " ".join(text for t in tickets for text in _texts(t))
    ids = [i for q in questions for i in re.findall(r"\b(?:LK-\d{6}|C-\d{5})\b", q["question"])]
    assert len(ids) >= 25
    assert [i for i in ids if i in ticket_text] == []


def test_escalation_keywords_mark_half_the_sensitive_questions(questions: list[dict], settings: Settings) -> None:
    sensitive = [q for q in questions if q["escalate"]]
    with_keyword = [q for q in sensitive if _matches_keyword(q["question"], settings)]
    assert 0.4 <= len(with_keyword) / len(sensitive) <= 0.6
    assert not [q["question"] for q in questions if not q["escalate"] and _matches_keyword(q["question"], settings)]
