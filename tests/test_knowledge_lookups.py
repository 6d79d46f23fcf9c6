"""Live lookups: validated at load time, parameters found by regex, bound, on read-only connections;
lookups that require identity return only the identified customer's rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DatabaseError

from journey.errors import UserError
from journey.knowledge.database import read_only_engine
from journey.knowledge.identity import ANONYMOUS, OWNER, Identity
from journey.knowledge.lookups import LiveLookup, load_lookups, lookup_warnings, run_lookups
from journey.workspace import Workspace
from knowledge_workspace import CONFIG, make_workspace
from knowledge_workspace import sql as change

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

    with pytest.raises(DatabaseError, match="not authorized"):
        writer.run({"order_id": "ORD-1001"})
    assert run_lookups([declared], "ORD-1001?")[0].rows[0]["status"] == "shipped"


# Statements that must never run on a lookup connection, and what the parser says of each in journey.toml.
REFUSED = [
    ("ATTACH DATABASE '{dir}/attached.sqlite' AS other", "must be a single SELECT"),
    ("DETACH DATABASE main", "must be a single SELECT"),
    ("VACUUM INTO '{dir}/copy.sqlite'", "must be a single SELECT"),
    ("VACUUM", "must be a single SELECT"),
    ("PRAGMA query_only = OFF", "must be a single SELECT"),
    ("PRAGMA writable_schema = ON", "must be a single SELECT"),
    ("PRAGMA table_info(orders)", "must be a single SELECT"),
    ("SELECT load_extension('{dir}/evil')", "calls load_extension()"),
    ("INSERT INTO orders VALUES ('ORD-6666', 'free')", "must be a single SELECT"),
    ("UPDATE orders SET status = 'lost'", "must be a single SELECT"),
    ("DELETE FROM orders", "must be a single SELECT"),
    ("CREATE TEMP TABLE loot AS SELECT * FROM orders", "must be a single SELECT"),
    ("DROP TABLE orders", "must be a single SELECT"),
    ("SELECT 1; ATTACH DATABASE '{dir}/attached.sqlite' AS other", "single statement; found 2"),
]
# Writes in other databases' syntax (SQLite itself does not parse them): the parser refuses them too.
OTHER_DIALECTS = [
    ("SELECT * INTO loot FROM orders", "it contains INTO"),
    ("SELECT * FROM orders FOR UPDATE", "it contains FOR UPDATE/SHARE"),
    ("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone", "it contains DELETE"),
    ("SELECT pg_read_file('/etc/passwd')", "calls pg_read_file()"),
]


@pytest.mark.parametrize(("statement", "problem"), REFUSED)
def test_the_connection_itself_refuses_everything_but_reading(
    workspace: Workspace, tmp_path: Path, statement: str, problem: str
) -> None:
    engine = read_only_engine(workspace.database_url("shop"))
    with engine.connect() as connection, pytest.raises(DatabaseError, match=r"not authorized|authorization denied"):
        connection.exec_driver_sql(statement.split("; ")[-1].format(dir=tmp_path))  # straight to the driver
    with engine.connect() as connection:  # the connection stays read-only: query_only was not turned off
        assert connection.exec_driver_sql("SELECT count(*) FROM orders").scalar() == 2
        with pytest.raises(DatabaseError, match="not authorized"):
            connection.exec_driver_sql("DELETE FROM orders")
    assert not list(tmp_path.glob("*.sqlite")), "nothing may be written next to the database"


@pytest.mark.parametrize(("statement", "problem"), REFUSED + OTHER_DIALECTS)
def test_the_parser_refuses_them_when_declared_in_journey_toml(tmp_path: Path, statement: str, problem: str) -> None:
    workspace = workspace_with(tmp_path, "declared", statement.format(dir=tmp_path), "")
    with pytest.raises(UserError, match=r"^lookup 'declared': ") as error:
        load_lookups(workspace)
    assert problem in str(error.value) and "\n" not in str(error.value)


def test_without_the_authorizer_sqlite_would_copy_the_database(workspace: Workspace, tmp_path: Path) -> None:
    """Why the authorizer is needed: mode=ro and query_only alone let a statement turn query_only off, then
    VACUUM INTO write a copy anywhere and ATTACH create a file."""
    path = workspace.root / "data" / "shop.sqlite"
    plain = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    plain.execute("PRAGMA query_only = ON")
    plain.execute("PRAGMA query_only = OFF")
    plain.execute(f"VACUUM INTO '{tmp_path / 'copy.sqlite'}'")
    plain.execute(f"ATTACH DATABASE '{tmp_path / 'attached.sqlite'}' AS other")
    plain.close()
    assert (tmp_path / "copy.sqlite").is_file() and (tmp_path / "attached.sqlite").is_file()


def test_reads_the_lookups_need_still_work_on_the_guarded_connection(workspace: Workspace) -> None:
    engine = read_only_engine(workspace.database_url("shop"))
    recursive = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT sum(i) FROM n"
    with engine.connect() as connection:
        assert connection.exec_driver_sql(recursive).scalar() == 6
        assert connection.exec_driver_sql("SELECT group_concat(order_id, ',') FROM orders").scalar()
        assert connection.execute(text("SELECT upper(status) FROM orders WHERE order_id = :o"), {"o": "ORD-1001"}
                                  ).scalar() == "SHIPPED"  # fmt: skip


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


# -- lookups that require the customer's identity ------------------------------------------------------------------
ACCOUNT = """
[[knowledge.lookups]]
name = "order_details"
database = "shop"
sql = "SELECT order_id, status, email FROM orders WHERE order_id = :order_id"
params = { order_id = '\\bORD-\\d{4}\\b' }
requires = ["email"]
"""


@pytest.fixture
def private(tmp_path: Path) -> LiveLookup:
    """A lookup of orders that requires the customer's email; ORD-1001 is ada@example.com's."""
    root = make_workspace(tmp_path / "ws", CONFIG + ACCOUNT)
    change(root, "ALTER TABLE orders ADD COLUMN email TEXT")
    change(root, "UPDATE orders SET email = 'ada@example.com' WHERE order_id = 'ORD-1001'")
    change(root, "UPDATE orders SET email = 'bob@example.com' WHERE order_id = 'ORD-1002'")
    return next(lookup for lookup in load_lookups(Workspace.load(root)) if lookup.name == "order_details")


def test_a_lookup_requiring_identity_is_skipped_for_a_caller_without_one(private: LiveLookup) -> None:
    executed = []
    event.listen(private.engine, "before_cursor_execute", lambda *args: executed.append(args[2]))
    assert run_lookups([private], "Where is ORD-1001?", identity=ANONYMOUS) == []
    assert run_lookups([private], "Where is ORD-1001?", identity=Identity({"name": "Ada"})) == []
    assert executed == []  # the database was not even asked
    with pytest.raises(PermissionError, match="requires the customer's email"):
        private.run({"order_id": "ORD-1001"}, ANONYMOUS)


def test_only_the_identified_customers_row_leaves_the_database(private: LiveLookup) -> None:
    executed = []
    event.listen(private.engine, "before_cursor_execute", lambda *args: executed.append(args[2:4]))
    ada = Identity({"email": "ada@example.com"})

    (own,) = run_lookups([private], "Where is ORD-1001?", identity=ada)
    (other,) = run_lookups([private], "Where is ORD-1002?", identity=ada)

    assert own.rows == [{"order_id": "ORD-1001", "status": "shipped"}]  # the email itself is not passed on
    assert other.rows == []  # Bob's order: filtered in the database
    assert executed[-1] == (
        'SELECT * FROM (SELECT order_id, status, email FROM orders WHERE order_id = ?) AS q WHERE q.email = ?',
        ("ORD-1002", "ada@example.com"),
    )
    (injected,) = run_lookups([private], "ORD-1002", identity=Identity({"email": "x' OR '1'='1"}))
    assert injected.rows == []


def test_the_owners_local_run_sees_every_row(private: LiveLookup) -> None:
    assert run_lookups([private], "ORD-1002?") == run_lookups([private], "ORD-1002?", identity=OWNER)
    (result,) = run_lookups([private], "ORD-1002?")
    assert result.rows == [{"order_id": "ORD-1002", "status": "processing"}]


@pytest.mark.parametrize(
    ("sql", "params", "requires", "problem"),
    [
        ("SELECT order_id, status FROM orders WHERE order_id = :order_id", "order_id = 'x'", '["email"]',
         "requires ['email'], but its SQL returns no such column (it returns ['order_id', 'status'])"),
        ("SELECT * FROM orders WHERE order_id = :order_id", "order_id = 'x'", '["e-mail"]',
         "identity fields are column names"),
        ("SELECT * FROM orders WHERE order_id = :_identity_email", "_identity_email = 'x'", "[]",
         "parameter names starting with _identity_ are journey's own"),
    ],
)  # fmt: skip
def test_bad_identity_requirements_are_refused_at_load(
    tmp_path: Path, sql: str, params: str, requires: str, problem: str
) -> None:
    config = CONFIG + LOOKUP.format(name="needs_id", sql=sql, params=params) + f"requires = {requires}\n"
    with pytest.raises(UserError, match="lookup 'needs_id'") as error:
        load_lookups(Workspace.load(make_workspace(tmp_path / "ws", config)))
    assert problem in str(error.value)
