"""Read-only access to the databases declared in journey.toml.

Table sources and lookups only ever run SQL written in journey.toml. It is held to that
twice (docs/security.md): `read_only_statement` parses it (sqlglot) and accepts exactly one
query that only reads, and the connections themselves refuse everything else — SQLite
through its authorizer callback on a file opened read-only, other databases through
read-only transactions.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlglot
from sqlalchemy import URL, Engine, TextClause, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from journey.errors import UserError

# SQLAlchemy's dialect name -> sqlglot's, for parsing each database's own syntax.
_SQLGLOT_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql",
                     "mssql": "tsql", "oracle": "oracle", "duckdb": "duckdb"}  # fmt: skip
# Parts of a parsed query that write, change the session or reach outside the database.
_REFUSED_NODES = (
    exp.DML, exp.DDL, exp.Drop, exp.Alter, exp.TruncateTable, exp.Command, exp.Pragma, exp.Attach, exp.Detach,
    exp.Into, exp.Lock, exp.Set, exp.Use, exp.Transaction, exp.Grant, exp.Revoke, exp.Kill, exp.Analyze,
    exp.Cache, exp.Uncache, exp.Refresh, exp.LoadData,
)  # fmt: skip
# Functions that load code or read and write files of the database server.
REFUSED_FUNCTIONS = frozenset({
    "load_extension", "readfile", "writefile", "edit", "fts3_tokenizer",  # SQLite and its shell's extensions
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "lo_import", "lo_export",  # PostgreSQL
    "dblink", "dblink_exec", "load_file",  # PostgreSQL dblink, MySQL
})  # fmt: skip
# What a lookup connection to SQLite may do: read tables and call functions (all else is denied).
_SQLITE_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}


def read_only_statement(sql: str, owner: str, dialect: str | None = None) -> TextClause:
    """Parse `sql` into a bound-parameter statement, refusing anything but one query that only reads.

    `owner` names where the SQL came from (e.g. "lookup 'order_status'") in the error; `dialect`
    is the database's SQLAlchemy dialect name (`engine.dialect.name`), None for generic SQL.
    """
    read = _SQLGLOT_DIALECTS.get(dialect or "")
    statements = _statements(sql, owner, read)
    if len(statements) > 1:
        raise UserError(f"{owner}: SQL must be a single statement; found {len(statements)} in {sql!r}.")
    if not statements or statements[0][0].token_type not in (TokenType.SELECT, TokenType.WITH, TokenType.L_PAREN):
        raise UserError(f"{owner}: SQL must be a single SELECT (or WITH … SELECT) query, not {sql!r}.")
    query = sql[statements[0][0].start : statements[0][-1].end + 1]  # without a final `;` or comment
    try:
        tree = sqlglot.parse_one(query, read=read)
    except SqlglotError as exc:
        raise UserError(f"{owner}: its SQL does not parse ({str(exc).splitlines()[0]}).") from None
    if not isinstance(tree, exp.Query):
        raise UserError(f"{owner}: SQL must be a single SELECT (or WITH … SELECT) query, not {sql!r}.")
    for node in tree.walk():
        if isinstance(node, _REFUSED_NODES):
            raise UserError(f"{owner}: SQL must only read; it contains {_keyword(node)}.")
        if isinstance(node, exp.Func) and _function_name(node) in REFUSED_FUNCTIONS:
            raise UserError(f"{owner}: SQL must only read; it calls {_function_name(node)}(), which is not allowed.")
    return text(query)


def _statements(sql: str, owner: str, read: str | None) -> list[list[Any]]:
    """The tokens of each statement in `sql` (comments and string literals cannot split one)."""
    try:
        tokens = sqlglot.Dialect.get_or_raise(read).tokenize(sql)
    except SqlglotError as exc:
        raise UserError(f"{owner}: its SQL does not parse ({str(exc).splitlines()[0]}).") from None
    statements: list[list[Any]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    return [statement for statement in statements if statement]


def _keyword(node: exp.Expression) -> str:
    if isinstance(node, exp.Lock):
        return "FOR UPDATE/SHARE"
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return node.key.upper()


def _function_name(node: exp.Func) -> str:
    return (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()


@cache
def read_only_engine(url: str) -> Engine:
    """An engine whose connections cannot write: SQLite opened `mode=ro` with `query_only` and an
    authorizer that allows only reads, other databases with every transaction `READ ONLY`
    (PostgreSQL also by session default)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UserError(f"Not a valid SQLAlchemy database URL: {url!r}.") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    connect_args = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["options"] = "-c default_transaction_read_only=on"
    try:
        engine = create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise UserError(f"Cannot use database {parsed.render_as_string()}: {exc}") from None

    @event.listens_for(engine, "begin")
    def _read_only_transaction(connection: Any) -> None:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine


def _sqlite_engine(parsed: URL) -> Engine:
    path = parsed.database or ""
    if not path or path == ":memory:" or path.startswith("file:"):
        raise UserError(f"SQLite database URL {parsed} must name a database file.")
    if not Path(path).is_file():
        raise UserError(f"SQLite database file {path} does not exist.")
    uri = URL.create("sqlite", database=f"file:{quote(path)}", query={"mode": "ro", "uri": "true"})
    engine = create_engine(uri)

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")
        dbapi_connection.set_authorizer(_sqlite_authorizer)  # from here on, only reads are allowed

    return engine


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _view: str | None) -> int:
    """SQLite's authorizer callback: reading tables and calling functions, except `load_extension`; nothing else
    (no writes, ATTACH/DETACH, VACUUM [INTO], PRAGMA, transactions or schema changes)."""
    if action not in _SQLITE_ALLOWED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def fetch(engine: Engine, statement: TextClause, params: dict[str, Any], limit: int | None = None) -> list[dict]:
    """Run `statement` with bound `params`; return up to `limit` rows as dicts."""
    with engine.connect() as connection:
        result = connection.execute(statement, params).mappings()
        rows = result.fetchmany(limit) if limit is not None else result.all()
    return [dict(row) for row in rows]


def describe_error(exc: SQLAlchemyError) -> str:
    """The database's own message, without SQLAlchemy's statement dump and links."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]
