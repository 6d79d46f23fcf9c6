"""Read-only access to the databases declared in journey.toml.

Table sources and lookups only ever run SQL written in journey.toml, checked here
to be a single SELECT, on connections the database itself keeps read-only.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import URL, Engine, TextClause, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from journey.errors import UserError

# String literals, quoted identifiers and comments: blanked out before looking at keywords.
_LITERALS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|/\*.*?\*/", re.DOTALL)
_WRITES = re.compile(
    r"\b(insert|update|delete|merge|upsert|drop|create|alter|truncate|attach|detach|pragma|vacuum|"
    r"reindex|grant|revoke|copy|call|exec|execute|lock|into)\b",
    re.IGNORECASE,
)


def read_only_statement(sql: str, owner: str) -> TextClause:
    """Parse `sql` into a bound-parameter statement, refusing anything but one SELECT/WITH query.

    `owner` names where the SQL came from (e.g. "lookup 'order_status'") in the error.
    """
    code = _LITERALS.sub(" ", sql).strip().rstrip(";").strip()
    first = code.split(None, 1)[0].lower() if code else ""
    if first not in ("select", "with"):
        raise UserError(f"{owner}: SQL must be a single SELECT (or WITH … SELECT) query, not {sql!r}.")
    if ";" in code:
        raise UserError(f"{owner}: SQL must be a single statement; found more than one in {sql!r}.")
    if found := _WRITES.search(code):
        raise UserError(f"{owner}: SQL must only read; it contains {found.group(0).upper()}.")
    return text(sql.strip().rstrip(";"))


@cache
def read_only_engine(url: str) -> Engine:
    """An engine whose connections cannot write: SQLite opened `mode=ro` with `query_only`,
    other databases with every transaction `READ ONLY` (PostgreSQL also by session default)."""
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
    def _query_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")

    return engine


def fetch(engine: Engine, statement: TextClause, params: dict[str, Any], limit: int | None = None) -> list[dict]:
    """Run `statement` with bound `params`; return up to `limit` rows as dicts."""
    with engine.connect() as connection:
        result = connection.execute(statement, params).mappings()
        rows = result.fetchmany(limit) if limit is not None else result.all()
    return [dict(row) for row in rows]


def describe_error(exc: SQLAlchemyError) -> str:
    """The database's own message, without SQLAlchemy's statement dump and links."""
    return str(getattr(exc, "orig", None) or exc).splitlines()[0]
