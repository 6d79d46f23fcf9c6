"""The demo companies' generators: contracts, determinism, counts and internal consistency.

The tests of what every demo workspace must be run on each company (`workspace` is parametrized);
those about one company's own data say so in their name."""

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

from journey.assistant.handover import learned_sentences
from journey.assistant.sentences import LearnedSentence, contains
from journey.demo import COMPANIES, create_demo_workspace, demo_company
from journey.errors import UserError
from journey.knowledge.identity import Identity
from journey.knowledge.lookups import load_lookups, lookup_warnings
from journey.train.corpus import load_corpus
from journey.train.tokenizer import train_tokenizer
from journey.workspace import DEFAULT_HANDOVER_MESSAGE, Settings, Workspace, parse_settings

CATEGORIES = {
    "larchkite": {"policy", "product", "order", "account", "troubleshooting", "sensitive"},
    "copperwell": {"policy", "tariff", "account", "contract", "fault", "troubleshooting", "sensitive"},
}


@pytest.fixture(scope="module", params=sorted(COMPANIES))
def company(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, company: str) -> Path:
    root = tmp_path_factory.mktemp("demo") / company
    create_demo_workspace(root, company=company)
    return root


@pytest.fixture(scope="module")
def larchkite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "larchkite-only"
    create_demo_workspace(root)
    return root


@pytest.fixture(scope="module")
def copperwell(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "copperwell-only"
    create_demo_workspace(root, company="copperwell")
    return root


@pytest.fixture(scope="module")
def settings(workspace: Path) -> Settings:
    return parse_settings(workspace / "journey.toml")


@pytest.fixture(scope="module")
def db(workspace: Path, settings: Settings) -> sqlite3.Connection:
    (url,) = settings.knowledge.databases.values()
    connection = sqlite3.connect(workspace / url.removeprefix("sqlite:///"))
    connection.row_factory = sqlite3.Row
    return connection


@pytest.fixture(scope="module")
def handover(workspace: Path) -> LearnedSentence:
    """The hand-over sentence journey learns from the tickets: exactly one, as each company writes one."""
    (sentence,) = learned_sentences(workspace / "data" / "tickets.jsonl")
    return sentence


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


def test_journey_toml_validates_with_lookups_and_escalation(settings: Settings, company: str, workspace: Path) -> None:
    assert settings.project.name == demo_company(company).name
    assert "{company}" in settings.assistant.system_prompt
    rules = {rule.name for rule in settings.assistant.escalation}
    assert len(rules) >= 5 and {"legal", "fraud"} <= rules
    assert len(settings.knowledge.databases) == 1 and len(settings.knowledge.tables) == 1
    assert len(load_lookups(Workspace.load(workspace))) == len(settings.knowledge.lookups) >= 2
    assert any(lookup.requires == ["email"] for lookup in settings.knowledge.lookups)
    assert lookup_warnings(Workspace.load(workspace)) == []  # every pattern matches the workspace's own messages


def test_larchkite_ids_and_tables(larchkite: Path) -> None:
    settings = parse_settings(larchkite / "journey.toml")
    assert settings.knowledge.databases == {"shop": "sqlite:///data/shop.sqlite"}
    lookups = {lookup.name: lookup for lookup in settings.knowledge.lookups}
    assert re.fullmatch(lookups["order_status"].params["order_id"], "LK-482913")
    assert re.fullmatch(lookups["customer_account"].params["customer_number"], "C-10442")
    assert [table.name for table in settings.knowledge.tables] == ["products"]
    assert settings.assistant.handover_message == DEFAULT_HANDOVER_MESSAGE


def test_copperwell_has_its_own_ids_schema_and_handover_message(copperwell: Path) -> None:
    settings = parse_settings(copperwell / "journey.toml")
    assert settings.knowledge.databases == {"crm": "sqlite:///data/crm.sqlite"}
    lookups = {lookup.name: lookup for lookup in settings.knowledge.lookups}
    assert re.fullmatch(lookups["account_summary"].params["account_number"], "CW-4821-0773")
    assert re.fullmatch(lookups["contract_status"].params["contract_id"], "EL3048122")
    assert re.fullmatch(lookups["fault_status"].params["fault_ref"], "INC4920183")
    assert lookups["outage_status"].requires == []  # outages by district are public
    assert [table.name for table in settings.knowledge.tables] == ["tariffs"]
    assert settings.assistant.handover_message != DEFAULT_HANDOVER_MESSAGE
    db = sqlite3.connect(copperwell / "data" / "crm.sqlite")
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"accounts", "contracts", "meter_readings", "invoices", "faults", "outages"} <= tables


def test_an_unknown_company_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"larchkite .*copperwell"):
        create_demo_workspace(tmp_path, company="acme")
    assert not any(tmp_path.iterdir())


def test_customer_lookups_return_only_the_verified_customers_rows(
    workspace: Path, settings: Settings, db: sqlite3.Connection, questions: list[dict]
) -> None:
    """Served, a lookup that requires the e-mail runs only for that customer: their own e-mail gets the row,
    another's gets nothing, none at all is refused."""
    declared = {lookup.name: lookup for lookup in settings.knowledge.lookups}
    scoped = [lookup for lookup in load_lookups(Workspace.load(workspace)) if lookup.requires == ("email",)]
    checked = 0
    for q in questions:
        for lookup in scoped:
            if (params := lookup.find_params(q["question"])) is None:
                continue
            (row,) = db.execute(declared[lookup.name].sql, params).fetchall()
            mine = lookup.run(params, Identity({"email": row["email"]})).rows
            assert len(mine) == 1 and mine == lookup.run(params).rows
            assert lookup.run(params, Identity({"email": "someone.else@example.com"})).rows == []
            with pytest.raises(PermissionError):
                lookup.run(params, Identity())
            checked += 1
    assert checked >= 20


def test_creates_the_documented_layout_with_enough_of_everything(workspace: Path) -> None:
    knowledge = workspace / "knowledge"
    by_suffix = Counter(path.suffix for path in knowledge.rglob("*") if path.is_file())
    assert by_suffix[".md"] >= 20 and by_suffix[".html"] >= 1 and by_suffix[".pdf"] >= 1
    assert len({path.parent for path in knowledge.rglob("*.md")}) >= 5  # sub-folders
    corpus = list((workspace / "data" / "corpus").glob("*.txt"))
    assert len(corpus) >= 3
    assert 2_000_000 <= sum(path.stat().st_size for path in corpus) <= 4_000_000
    assert not list(workspace.rglob("*.tmp"))  # atomic writes leave no temporaries


def test_larchkite_database_has_enough_of_everything(larchkite: Path) -> None:
    db = sqlite3.connect(larchkite / "data" / "shop.sqlite")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("products", "customers", "orders")}
    assert counts["products"] >= 60 and counts["customers"] >= 200 and counts["orders"] >= 500
    assert db.execute("SELECT count(DISTINCT order_id) FROM order_items").fetchone()[0] == counts["orders"]


def test_copperwell_database_has_enough_of_everything(copperwell: Path) -> None:
    db = sqlite3.connect(copperwell / "data" / "crm.sqlite")
    names = ("tariffs", "accounts", "contracts", "meter_readings", "invoices", "faults", "outages")
    counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in names}
    assert counts["tariffs"] >= 20 and counts["accounts"] >= 200 and counts["contracts"] >= 400
    assert counts["invoices"] == 3 * counts["accounts"] and counts["faults"] >= 50 and counts["outages"] >= 5
    orphans = db.execute("SELECT count(*) FROM contracts WHERE tariff_code NOT IN (SELECT code FROM tariffs)")
    assert orphans.fetchone()[0] == 0


def test_the_corpus_gives_the_from_scratch_tokenizer_its_whole_vocabulary(workspace: Path) -> None:
    """`journey train` refuses a corpus whose BPE vocabulary falls short of train.vocab_size."""
    loaded = Workspace.load(workspace)
    tokenizer = train_tokenizer(load_corpus(loaded).documents, vocab_size=loaded.settings.train.vocab_size)
    assert len(tokenizer) == loaded.settings.train.vocab_size


def test_same_seed_same_bytes_other_seed_other_data(workspace: Path, company: str, tmp_path: Path) -> None:
    create_demo_workspace(tmp_path / "again", company=company, seed=0)
    create_demo_workspace(tmp_path / "other", company=company, seed=1)

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    first, again, other = files(workspace), files(tmp_path / "again"), files(tmp_path / "other")
    assert first.keys() == again.keys()
    assert [name for name in first if first[name] != again[name]] == []
    assert first["data/tickets.jsonl"] != other["data/tickets.jsonl"]
    database = next(name for name in first if name.endswith(".sqlite"))
    assert first[database] != other[database]


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


EXTRACTED = {  # strings the first PDF and the first HTML article must give back as text
    "larchkite": (("E-217", "9 hours", "4.2.1"), "6.45"),
    "copperwell": (("4 minutes", "20 seconds", "flashing amber"), "45.00"),
}


def test_pdf_and_html_articles_are_extractable(workspace: Path, company: str) -> None:
    in_pdf, in_html = EXTRACTED[company]
    pdf = _document_text(sorted((workspace / "knowledge").rglob("*.pdf"))[-1])
    assert all(text in pdf for text in in_pdf)
    page = BeautifulSoup(sorted((workspace / "knowledge").rglob("*.html"))[-1].read_text(), "html.parser")
    assert page.title and page.title.string and page.find("h1") and page.find_all("h2")
    assert in_html in page.get_text()


def test_catalogue_template_renders_every_row(settings: Settings, db: sqlite3.Connection) -> None:
    table = settings.knowledge.tables[0]
    rows = [dict(row) for row in db.execute(table.query)]
    passages = {row[table.id_column]: table.template.format(**row) for row in rows}
    assert len(passages) == len(rows) >= 20
    assert all(re.search(r"[€£]\d+\.\d\d\b", text) for text in passages.values())  # prices print with cents
    assert not [text for text in passages.values() if "None" in text]


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


def test_the_hand_over_sentence_is_learnt_from_about_a_tenth_of_tickets(
    tickets: list[dict], settings: Settings, handover: LearnedSentence
) -> None:
    """journey's own detection (assistant/sentences.py) finds each company's hand-over sentence, and only it; the
    message journey.toml says on a keyword hand-over is that sentence."""
    assert handover.matches(settings.assistant.handover_message)
    handed = [t for t in tickets if contains(_texts(t)[-1], [handover])]
    assert handover.tickets == len(handed)
    assert 0.08 <= len(handed) / len(tickets) <= 0.13
    with_keyword = [t for t in handed if any(_matches_keyword(u, settings) for u in _user_texts(t))]
    assert 0 < len(with_keyword) < len(handed)  # both keyword cases and complex ones
    others = [t for t in tickets if t not in handed]
    assert not [u for t in others for u in _user_texts(t) if _matches_keyword(u, settings)]


def test_larchkite_ticket_replies_quote_the_database(larchkite: Path) -> None:
    tickets = [json.loads(line) for line in (larchkite / "data" / "tickets.jsonl").read_text().splitlines()]
    db = sqlite3.connect(larchkite / "data" / "shop.sqlite")
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


def test_copperwell_ticket_replies_quote_the_database(copperwell: Path) -> None:
    tickets = [json.loads(line) for line in (copperwell / "data" / "tickets.jsonl").read_text().splitlines()]
    db = sqlite3.connect(copperwell / "data" / "crm.sqlite")
    quoted = 0
    for ticket in tickets:
        text = " ".join(_texts(ticket))
        for contract_id in set(re.findall(r"\b(?:BB|EL|GS)\d{7}\b", text)):
            tariff, end = db.execute(
                "SELECT t.name, c.end_date FROM contracts c JOIN tariffs t ON t.code = c.tariff_code "
                "WHERE c.contract_id = ?", (contract_id,)
            ).fetchone()
            assert tariff in text and (end is None or end in text or "starts on" in text)
            quoted += 1
        for ref in set(re.findall(r"\bINC\d{7}\b", text)):
            (issue,) = db.execute("SELECT issue FROM faults WHERE fault_ref = ?", (ref,)).fetchone()
            assert issue in text
            quoted += 1
    assert quoted >= 150


# -- eval set -----------------------------------------------------------------------------------


def test_eval_questions_follow_the_contract(questions: list[dict], company: str, handover: LearnedSentence) -> None:
    assert len(questions) >= 100
    assert len({q["id"] for q in questions}) == len(questions)
    by_category = Counter(q["category"] for q in questions)
    assert set(by_category) == CATEGORIES[company]
    assert 0.12 <= by_category["sensitive"] / len(questions) <= 0.16
    for q in questions:
        assert set(q) == {"id", "question", "reference", "facts", "escalate", "category"}
        assert q["escalate"] == (q["category"] == "sensitive")
        assert (q["facts"] == []) if q["escalate"] else (1 <= len(q["facts"]) <= 3)
        assert contains(q["reference"], [handover]) == q["escalate"]  # references hand over in the house sentence
        assert all(fact in q["reference"] for fact in q["facts"])


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
        if any(re.search(rx, q["question"]) for lookup in settings.knowledge.lookups for rx in lookup.params.values()):
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


def test_eval_customer_ids_are_not_in_tickets(tickets: list[dict], questions: list[dict], settings: Settings) -> None:
    """Ids of customer-scoped rows (orders, accounts, contracts...) asked about in the eval are held out."""
    ticket_text = " ".join(text for t in tickets for text in _texts(t))
    patterns = [rx for lookup in settings.knowledge.lookups if lookup.requires for rx in lookup.params.values()]
    ids = [i for q in questions for rx in patterns for i in re.findall(rx, q["question"])]
    assert len(ids) >= 25
    assert [i for i in ids if i in ticket_text] == []


def test_escalation_keywords_mark_half_the_sensitive_questions(questions: list[dict], settings: Settings) -> None:
    sensitive = [q for q in questions if q["escalate"]]
    with_keyword = [q for q in sensitive if _matches_keyword(q["question"], settings)]
    assert 0.4 <= len(with_keyword) / len(sensitive) <= 0.6
    assert not [q["question"] for q in questions if not q["escalate"] and _matches_keyword(q["question"], settings)]
