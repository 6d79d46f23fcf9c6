"""Live lookups: validated at load time, parameters found by regex, bound, on read-only connections."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from journey.errors import UserError
from journey.knowledge.database import read_only_engine
from journey.knowledge.lookups import LiveLookup, load_lookups, lookup_warnings, run_lookups
from journey.workspace import Workspace
from knowledge_workspace import CONFIG, make_workspace

LOOKUP = """
[[knowledge.lookups]]
name = "{name}"
database = "shop"
sql = "{sql}"
params = {{ {params} }}
"""


def workspace_with(tmp_path: Path, name: str, sql: str, params: str = "order_id = 'ORD-\\\\d{4}'") -> Workspace:
    config = CONFIG + LOOKUP.format(name=name, sql=sql, params=params)
    return Workspace.load(make_workspace(tmp_path / "ws", config))


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace.load(make_workspace(tmp_path / "ws"))


@pytest.mark.parametrize(
    ("sql", "params", "problem"),
    [
        ("DELETE FROM orders WHERE order_id = :order_id", "order_id = 'x'", "must be a single SELECT"),
        ("SELECT 1 WHERE :order_id = 1; DROP TABLE orders", "order_id = 'x'", "single statement"),
        ("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone", "", "only read; it contains DELETE"),
        ("SELECT * FROM orders WHERE order_id = :order_id", "id = 'x'", "uses parameters ['order_id']"),
        ("SELECT * FROM orders WHERE order_id = :order_id", "order_id = '(unclosed'", "not a valid regex"),
        ("SELECT * FROM orders WHERE order_id = :order_id", "order_id = 'x*'", "matches an empty string"),
        ("SELECT * FROM invoices WHERE order_id = :order_id", "order_id = 'x'", "no such table: invoices"),
        ("SELECT nope FROM orders WHERE order_id = :order_id", "order_id = 'x'", "no such column: nope"),
    ],
)
def test_bad_lookup_is_refused_at_load_naming_it(tmp_path: Path, sql: str, params: str, problem: str) -> None:
    workspace = workspace_with(tmp_path, "bad_one", sql, params)
    with pytest.raises(UserError, match=r"lookup 'bad_one'.*") as error:
        load_lookups(workspace)
    assert problem in str(error.value)


def test_params_come_from_the_question_then_from_earlier_user_messages(workspace: Workspace) -> None:
    (lookup,) = load_lookups(workspace)
    history = [
        {"role": "user", "content": "My order is ORD-1001."},
        {"role": "assistant", "content": "Thanks, ORD-1002 is someone else's."},
        {"role": "user", "content": "Hello?"},
    ]

    assert lookup.find_params("Where is ORD-1002 now?", history) == {"order_id": "ORD-1002"}
    assert lookup.find_params("Where is it now?", history) == {"order_id": "ORD-1001"}
    assert lookup.find_params("Where is it now?", history[1:]) is None
    assert run_lookups([lookup], "Where is it now?") == []


def test_found_order_returns_its_row_and_unknown_order_returns_none(workspace: Workspace) -> None:
    (lookup,) = load_lookups(workspace)
    (found,) = run_lookups([lookup], "status of ORD-1001 please")
    (missing,) = run_lookups([lookup], "status of ORD-9999 please")

    assert (found.name, found.params, found.rows) == (
        "order_status", {"order_id": "ORD-1001"}, [{"order_id": "ORD-1001", "status": "shipped"}]
    )  # fmt: skip
    assert found.description == "Status of an order." and missing.rows == []


def test_injection_in_a_parameter_is_only_a_bound_value(tmp_path: Path) -> None:
    sql = "SELECT order_id, status FROM orders WHERE order_id = :order_id"
    workspace = workspace_with(tmp_path, "loose", sql, "order_id = 'order (.+)'")
    lookup = next(lookup for lookup in load_lookups(workspace) if lookup.name == "loose")
    executed = []
    event.listen(lookup.engine, "before_cursor_execute", lambda *args: executed.append(args[2:4]))

    (result,) = run_lookups([lookup], "order x' OR '1'='1'; DROP TABLE orders; --")

    assert result.params == {"order_id": "x' OR '1'='1'; DROP TABLE orders; --"} and result.rows == []
    assert executed == [(sql.replace(":order_id", "?"), ("x' OR '1'='1'; DROP TABLE orders; --",))]
    with sqlite3.connect(workspace.root / "data" / "shop.sqlite") as db:
        assert db.execute("SELECT count(*) FROM orders").fetchone() == (2,)


def test_a_write_through_a_lookup_fails_on_the_read_only_connection(workspace: Workspace) -> None:
    (declared,) = load_lookups(workspace)
    writer = LiveLookup("sneaky", "", text("UPDATE orders SET status = 'lost' WHERE order_id = :order_id"),
                        declared.patterns, declared.engine)  # fmt: skip

    with pytest.raises(OperationalError, match="readonly"):
        writer.run({"order_id": "ORD-1001"})
    engine = read_only_engine(workspace.database_url("shop"))
    with engine.connect() as connection, pytest.raises(OperationalError, match="readonly"):
        connection.exec_driver_sql("PRAGMA query_only = OFF")  # even then the file is opened read-only
        connection.exec_driver_sql("DELETE FROM orders")
    assert run_lookups([declared], "ORD-1001?")[0].rows[0]["status"] == "shipped"


def test_database_failure_at_question_time_skips_the_lookup(workspace: Workspace) -> None:
    (lookup,) = load_lookups(workspace)
    (workspace.root / "data" / "shop.sqlite").write_bytes(b"not a database any more")
    lookup.engine.dispose()

    assert run_lookups([lookup], "Where is ORD-1001?") == []


def test_undeclared_or_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    config = CONFIG.replace('database = "shop"\nsql', 'database = "crm"\nsql')
    workspace = Workspace.load(make_workspace(tmp_path / "ws", config))
    with pytest.raises(UserError, match="database 'crm' is not declared"):
        load_lookups(workspace)
    with pytest.raises(UserError, match="does not exist"):
        read_only_engine(f"sqlite:///{tmp_path / 'missing.sqlite'}")


def test_index_time_warnings_name_bad_and_never_matching_lookups(tmp_path: Path) -> None:
    sql = "SELECT * FROM orders WHERE order_id = :order_id"
    workspace = workspace_with(tmp_path, "by_invoice", sql, "order_id = 'INV-\\\\d+'")
    (workspace.root / "data" / "eval.jsonl").write_text('{"question": "Where is ORD-1001?"}\n', encoding="utf-8")

    assert lookup_warnings(workspace) == [
        "lookup 'by_invoice': the pattern for :order_id matches none of the 1 customer messages in "
        "data/eval.jsonl and data/tickets.jsonl, so it may never run."
    ]
    broken = workspace_with(tmp_path / "other", "broken", "SELECT * FROM nowhere WHERE id = :order_id")
    assert any("lookup 'broken'" in warning and "no such table" in warning for warning in lookup_warnings(broken))
