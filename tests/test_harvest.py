"""`journey harvest` on a real SQLite app database filled through the store's API: resolved conversations become
tickets, corrected thumbs-down answers DPO pairs, rated answers KTO labels, every kind of personal data redacted,
and nothing written when there is nothing to harvest or redaction fails."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.cli_runner import run_main

from journey.assistant.prompts import CONTEXT_PREAMBLE
from journey.assistant.records import LookupRecord, PassageRecord, ReplyRecord
from journey.errors import UserError
from journey.knowledge.context import LookupResult, Passage
from journey.models.messages import Transfer
from journey.redact import Redactor, name_parts
from journey.serve.harvest import harvest
from journey.serve.store import Store
from journey.training.preferences import harvest_paths, read_preferences
from journey.training.tickets import read_tickets
from journey.workspace import DEFAULT_HANDOVER_MESSAGE, Workspace

EMAIL, PHONE = "anna.devries@example.com", "+44 20 7946 0958"
IBAN, CARD = "DE89 3704 0044 0532 0130 00", "4111 1111 1111 1111"
NAMES = ("Anna", "Vries", "C-12345", "Maria", "Lopes", "Freya", "Nielsen", "freya@example.org")
SECRETS = (EMAIL, PHONE, IBAN, CARD, *NAMES)
WRONG = "Refunds are paid back within 5 days."
FIX = f"Hello Anna, I refunded the double charge to {IBAN}; the receipt went to {EMAIL}. Maria"


def make_workspace(root: Path, **harvest_settings: object) -> Workspace:
    lines = ['[project]\nname = "Testshop"\n[harvest]\nkeep = ["+32 9 555 01 87"]\n']
    lines += [f"{key} = {json.dumps(value)}\n" for key, value in harvest_settings.items()]
    if harvest_settings:
        lines.append('[knowledge.databases]\nshop = "sqlite:///data/shop.sqlite"\n')
    (root / "journey.toml").write_text("".join(lines), encoding="utf-8")
    return Workspace.load(root)


def store_of(workspace: Workspace) -> Store:
    return Store(f"sqlite:///{workspace.state_dir / 'app.sqlite'}")


def handed_over_and_resolved(store: Store) -> None:
    """Anna's card was charged twice: the bot's answer is rated down, she asks for a human, Maria resolves it."""
    identity = {"email": EMAIL, "customer_number": "C-12345"}
    c = store.create_conversation("Anna de Vries", "as-is", identity).id
    store.add_customer_message(c, f"Hi, I'm Anna de Vries. My card {CARD} was charged twice for LK-123456.", "m1")
    wrong = store.add_bot_reply(c, WRONG, {"citations": []}, None)
    store.rate_answer(c, wrong.id, +1)
    store.rate_answer(c, wrong.id, -1, "not what I asked")  # the last rating counts
    store.add_customer_message(c, f"That is not it. Call me on {PHONE} or at our line +32 9 555 01 87.", "m2")
    store.add_bot_reply(c, DEFAULT_HANDOVER_MESSAGE, {"handed_over": True}, "asked for a human")
    store.claim(c, "Maria Lopes")
    store.agent_reply(c, "Maria Lopes", FIX)
    store.add_customer_message(c, "Thanks, anna", "m3")  # after the last agent reply: not a turn to learn
    store.close_handover(c, "Maria Lopes", "resolved")


def answered_well(store: Store, customer: str = "Customer", identity: dict | None = None) -> None:
    c = store.create_conversation(customer, "as-is", identity).id
    store.add_customer_message(c, "This is Freya Nielsen: how long do returns take?", "m1")
    store.rate_answer(c, store.add_bot_reply(c, "Returns are accepted within 41 days.", {}, None).id, +1)


def still_waiting(store: Store) -> None:
    c = store.create_conversation("Tom", "as-is").id
    store.add_customer_message(c, "I will take legal action.", "m1")
    store.add_bot_reply(c, DEFAULT_HANDOVER_MESSAGE, {"handed_over": True}, "legal")
    store.claim(c, "Maria Lopes")
    store.agent_reply(c, "Maria Lopes", "I am looking into it.")


def test_harvest_writes_redacted_tickets_pairs_and_labels(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    store = store_of(ws)
    handed_over_and_resolved(store)
    answered_well(store, "Freya Nielsen", {"email": "freya@example.org"})
    still_waiting(store)
    store.close()

    report = harvest(ws)
    paths = harvest_paths(ws)
    texts = {path: path.read_text(encoding="utf-8") for path in (paths.conversations, paths.pairs, paths.labels)}
    for secret in SECRETS:  # each kind of personal data, the customer's name and the agent's too
        assert all(secret.lower() not in text.lower() for text in texts.values()), secret

    [ticket] = [json.loads(line) for line in texts[paths.conversations].splitlines()]
    assert "handover" not in ticket  # the bot's answer failed: the lesson is to answer as the agent did
    assert [m["role"] for m in ticket["messages"]] == ["user", "assistant"]  # the bot's turns are not the lesson
    customer, agent = (m["content"] for m in ticket["messages"])
    assert customer.startswith("Hi, I'm <NAME>. My card <CARD> was charged twice for LK-123456.")
    assert "Call me on <PHONE> or at our line +32 9 555 01 87." in customer  # harvest.keep: the company's own
    assert agent == "Hello <NAME>, I refunded the double charge to <IBAN>; the receipt went to <EMAIL>. <AGENT>"
    tickets = read_tickets(paths.conversations, "system prompt")  # the tickets reader takes it as it is
    assert [m["role"] for m in tickets.tickets[0].messages] == ["system", "user", "assistant"]
    assert not tickets.skipped
    assert tickets.tickets[0].handover is None

    [pair] = report.pairs
    assert pair["chosen"] == [{"role": "assistant", "content": agent}]
    assert pair["rejected"] == [{"role": "assistant", "content": WRONG}]
    assert pair["prompt"][-1]["content"].startswith("Hi, I'm <NAME>")
    assert [label["label"] for label in report.labels] == [False, True]
    assert report.labels[1]["prompt"] == [{"role": "user", "content": "This is <NAME>: how long do returns take?"}]
    dpo, kto = read_preferences(ws, "dpo", "sys"), read_preferences(ws, "kto", "sys")
    assert dpo.rows[0]["prompt"][0] == {"role": "system", "content": "sys"} and not dpo.skipped
    assert len(kto.rows) == 2 and not kto.skipped


def test_a_bots_own_handover_is_harvested_as_a_handover_not_as_the_agents_answer(tmp_path: Path) -> None:
    """The legal rule handed over and an agent resolved it: the ticket teaches the hand-over (its message, the
    team and reason as a transfer_to_human call), never the agent's reply as the text of a hand-over."""
    ws = make_workspace(tmp_path)
    store = store_of(ws)
    c = store.create_conversation("Tom", "as-is").id
    store.add_customer_message(c, "I will take legal action about order LK-1.", "m1")
    store.add_bot_reply(c, DEFAULT_HANDOVER_MESSAGE, {"handed_over": True}, "rule:legal", team="legal")
    store.claim(c, "Maria Lopes")
    store.agent_reply(c, "Maria Lopes", "I have refunded order LK-1 in full.")
    store.close_handover(c, "Maria Lopes", "resolved")
    store.close()

    harvest(ws)
    [ticket] = [json.loads(line) for line in harvest_paths(ws).conversations.read_text(encoding="utf-8").splitlines()]
    assert [m["role"] for m in ticket["messages"]] == ["user", "assistant"]
    final = ticket["messages"][-1]
    assert final["content"] == DEFAULT_HANDOVER_MESSAGE and "refunded" not in json.dumps(ticket)
    [read] = read_tickets(harvest_paths(ws).conversations, "system prompt").tickets  # as journey finetune reads it
    assert read.found_by == "tool call" and read.handover == Transfer("legal", "rule:legal")
    assert read.messages[-1] == {"role": "assistant", "content": DEFAULT_HANDOVER_MESSAGE}


def test_an_augmented_answers_pair_carries_the_data_block_it_was_given(tmp_path: Path) -> None:
    """The bot answered from a passage and a lookup row (stored raw with its message): the pair's prompt is the
    customer's turn behind that data block, as the served model saw it, and the row's personal data is redacted."""
    ws = make_workspace(tmp_path)
    store = store_of(ws)
    c = store.create_conversation("Anna de Vries", "finetuned+augmented", {"email": EMAIL}).id
    store.add_customer_message(c, "Where is my order LK-123456?", "m1")
    passage = Passage("kb/delivery.md#0", "Delivery", "kb/delivery.md", "Orders ship within 2 working days.")
    row = LookupResult("order_status", {"order_id": "LK-123456"}, [{"status": "shipped", "email": EMAIL}])
    record = ReplyRecord(
        handed_over=False, passages=[PassageRecord.of(passage, raw=True)], lookups=[LookupRecord.of(row, raw=True)]
    )
    wrong = store.add_bot_reply(c, "It was delivered yesterday.", record.json_view(), None)
    store.rate_answer(c, wrong.id, -1)
    store.add_bot_reply(c, DEFAULT_HANDOVER_MESSAGE, {"handed_over": True}, "asked for a human")
    store.claim(c, "Maria Lopes")
    store.agent_reply(c, "Maria Lopes", "It has shipped and arrives within 2 working days.")
    store.close_handover(c, "Maria Lopes", "resolved")
    store.close()

    report = harvest(ws)
    [pair], [label] = report.pairs, report.labels
    turn = pair["prompt"][-1]["content"]
    assert turn.startswith(CONTEXT_PREAMBLE) and turn.endswith("Customer question: Where is my order LK-123456?")
    assert "Orders ship within 2 working days." in turn and "status: shipped" in turn
    assert EMAIL not in turn and "<EMAIL>" in turn
    assert label["prompt"] == pair["prompt"] and label["label"] is False
    [ticket] = report.conversations  # the ticket stays the conversation itself: tickets carry no data block
    assert ticket["messages"][0]["content"] == "Where is my order LK-123456?"


def test_names_come_from_the_company_database(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    with sqlite3.connect(tmp_path / "data" / "shop.sqlite") as db:
        db.execute("CREATE TABLE customers (email TEXT, first_name TEXT, last_name TEXT)")
        db.execute("INSERT INTO customers VALUES ('freya@example.org', 'Freya', 'Nielsen')")
    sql = "SELECT first_name, last_name FROM customers WHERE email = :email"
    ws = make_workspace(tmp_path, names_database="shop", names_sql=sql)
    store = store_of(ws)
    answered_well(store, identity={"email": "freya@example.org"})  # the chat page named nobody
    store.close()
    report = harvest(ws)
    assert report.labels[0]["prompt"][0]["content"] == "This is <NAME>: how long do returns take?"
    assert not report.conversations and not report.pairs


def test_nothing_to_harvest_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    ws = make_workspace(tmp_path)
    with pytest.raises(UserError, match=r"No app database .* run `journey serve` first"):
        harvest(ws)
    store = store_of(ws)
    still_waiting(store)  # an agent replied, but nobody resolved it and nothing was rated
    store.close()
    code, output = run_main(monkeypatch, capsys, "harvest", "-w", str(tmp_path))
    assert code == 2
    assert "Nothing to harvest" in output and "nothing was written" in output
    assert not (tmp_path / "data").exists()


def test_failing_redaction_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    sqlite3.connect(tmp_path / "data" / "shop.sqlite").close()  # no customers table: the names query fails
    sql = "SELECT first_name FROM customers WHERE email = :email"
    ws = make_workspace(tmp_path, names_database="shop", names_sql=sql)
    store = store_of(ws)
    handed_over_and_resolved(store)
    store.close()
    with pytest.raises(UserError, match=r"Redaction failed.*nothing was written"):
        harvest(ws)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["shop.sqlite"]


def test_a_reviewed_file_is_not_replaced_without_force(tmp_path: Path, monkeypatch, capsys) -> None:
    ws = make_workspace(tmp_path)
    store = store_of(ws)
    handed_over_and_resolved(store)
    store.close()
    code, output = run_main(monkeypatch, capsys, "harvest", "-w", str(tmp_path))
    assert code == 0 and "Harvested 1 resolved conversation(s)" in output and "1 preference pair(s)" in output
    paths = harvest_paths(ws)
    harvest(ws)  # unchanged since journey wrote it: replaced
    paths.pairs.write_text("", encoding="utf-8")  # the reviewer dropped the pair
    with pytest.raises(UserError, match="changed since `journey harvest` wrote it"):
        harvest(ws)
    assert paths.pairs.read_text(encoding="utf-8") == ""
    harvest(ws, force=True)
    assert paths.pairs.read_text(encoding="utf-8").count("\n") == 1


def test_redactor_finds_each_kind_and_keeps_what_is_not_personal() -> None:
    redactor = Redactor()
    text = f"Ada Lovelace, {EMAIL}, {PHONE}, 0176 12345678, {IBAN}, {CARD}; order LK-123456 on 2024-05-03 for 49.90."
    known = dict.fromkeys(name_parts("Ada Lovelace"), "<NAME>")
    assert redactor.redact(text, known) == (
        "<NAME>, <EMAIL>, <PHONE>, <PHONE>, <IBAN>, <CARD>; order LK-123456 on 2024-05-03 for 49.90."
    )
    assert redactor.redact("Dear lovelace, card 4111 1111 1111 1112 (not a valid number)", known) == (
        "Dear <NAME>, card 4111 1111 1111 1112 (not a valid number)"
    )
    ids = "order LK-0497601202, tracking code 0497601202, call 0497601202"  # a valid number in BE, DE, FR, NL
    assert redactor.redact(ids) == "order LK-0497601202, tracking code <PHONE>, call <PHONE>"
    tracking = Redactor(keep_patterns=[r"(?<=tracking code )\d+"])
    assert tracking.redact(ids) == "order LK-0497601202, tracking code 0497601202, call <PHONE>"
