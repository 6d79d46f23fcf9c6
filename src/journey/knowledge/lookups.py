"""Live lookups: named, read-only SQL declared in journey.toml, run with parameters found by regex.

Everything that can be checked is checked when the lookups are loaded, so a bad
lookup stops `chat`/`serve` at start-up with its name rather than failing mid-conversation.
A parameter value only ever reaches the database as a bound value: it cannot change
which query runs. A lookup that `requires` identity fields runs wrapped in a filter on
them, bound to the caller's verified identity, so another customer's row never leaves
the database (docs/security.md).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, TextClause, text
from sqlalchemy.exc import SQLAlchemyError

from journey.errors import UserError
from journey.io import read_jsonl
from journey.knowledge.context import LookupResult
from journey.knowledge.database import describe_error, fetch, read_only_engine, read_only_statement
from journey.knowledge.identity import OWNER, Identity
from journey.workspace import Lookup, Workspace

MAX_ROWS = 20
IDENTITY_PARAM = "_identity_"  # prefix of the bound parameters that carry the caller's identity
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveLookup:
    name: str
    description: str
    statement: TextClause
    patterns: dict[str, re.Pattern[str]]
    engine: Engine
    requires: tuple[str, ...] = ()
    guarded: TextClause | None = None  # `statement` filtered on the `requires` columns; None without them

    def find_params(self, question: str, history: list[dict] | None = None) -> dict[str, str] | None:
        """Each parameter from the question, else from the latest user message that has it; None if any is missing."""
        earlier = [m.get("content") or "" for m in reversed(history or []) if m.get("role") == "user"]
        params = {}
        for name, pattern in self.patterns.items():
            value = next((v for t in (question, *earlier) if (v := _match(pattern, name, t)) is not None), None)
            if value is None:
                return None
            params[name] = value
        return params

    def run(self, params: dict[str, Any], identity: Identity = OWNER) -> LookupResult:
        """The rows for `params` — only `identity`'s own when the lookup requires identity and it is not trusted.
        The `requires` columns themselves are left out of the rows: they identify, the answer does not need them."""
        statement, bound = self.statement, dict(params)
        if self.guarded is not None and not identity.trusted:
            if not identity.has(list(self.requires)):
                raise PermissionError(f"lookup '{self.name}' requires the customer's {', '.join(self.requires)}")
            statement = self.guarded
            bound |= {IDENTITY_PARAM + name: identity.fields[name] for name in self.requires}
        rows = fetch(self.engine, statement, bound, limit=MAX_ROWS)
        rows = [{key: value for key, value in row.items() if key not in self.requires} for row in rows]
        return LookupResult(self.name, params, rows, self.description)


def load_lookups(workspace: Workspace) -> list[LiveLookup]:
    """Validate and prepare every declared lookup; raise `UserError` naming the first bad one."""
    return [_load(workspace, lookup) for lookup in workspace.settings.knowledge.lookups]


def lookup_warnings(workspace: Workspace) -> list[str]:
    """Lookups that would be refused at load, and patterns that none of the workspace's own
    customer messages (data/eval.jsonl questions, data/tickets.jsonl user turns) match."""
    samples = _customer_messages(workspace)
    warnings = []
    for declared in workspace.settings.knowledge.lookups:
        try:
            lookup = _load(workspace, declared)
        except UserError as exc:
            warnings.append(str(exc))
            continue
        for name, pattern in lookup.patterns.items():
            if samples and not any(pattern.search(text) for text in samples):
                warnings.append(
                    f"lookup '{lookup.name}': the pattern for :{name} matches none of the {len(samples)} "
                    "customer messages in data/eval.jsonl and data/tickets.jsonl, so it may never run."
                )
    return warnings


def run_lookups(
    lookups: list[LiveLookup], question: str, history: list[dict] | None = None, *, identity: Identity = OWNER
) -> list[LookupResult]:
    """Results of every lookup whose parameters were found and whose required identity `identity` has
    (the default, `OWNER`, is the workspace owner's own local run); a failing database is logged and skipped."""
    results = []
    for lookup in lookups:
        params = lookup.find_params(question, history)
        if params is None or not identity.has(list(lookup.requires)):
            continue
        try:
            results.append(lookup.run(params, identity))
        except SQLAlchemyError as exc:
            log.warning("lookup %r failed: %s", lookup.name, describe_error(exc))
    return results


def _customer_messages(workspace: Workspace) -> list[str]:
    messages = []
    for path in (workspace.eval_path, workspace.tickets_path):
        records = [item[1] for item in read_jsonl(path) if isinstance(item, tuple)] if path.is_file() else []
        for record in filter(lambda r: isinstance(r, dict), records):
            messages += [record.get("question"), record.get("prompt")]
            turns = [t for t in record.get("messages") or [] if isinstance(t, dict) and t.get("role") == "user"]
            messages += [turn.get("content") for turn in turns]
    return [m for m in messages if isinstance(m, str)]


def _match(pattern: re.Pattern[str], name: str, text: str) -> str | None:
    """The named group `name`, else the first group, else the whole match."""
    found = pattern.search(text)
    if not found:
        return None
    if name in pattern.groupindex:
        return found.group(name)
    return found.group(1) if pattern.groups else found.group(0)


def _load(workspace: Workspace, lookup: Lookup) -> LiveLookup:
    owner = f"lookup '{lookup.name}'"
    engine = read_only_engine(workspace.database_url(lookup.database))
    statement = read_only_statement(lookup.sql, owner, engine.dialect.name)
    used = set(statement.compile().params)
    if used != set(lookup.params):
        raise UserError(
            f"{owner}: its SQL uses parameters {sorted(used)} but it declares {sorted(lookup.params)}; "
            "declare one pattern for each :name in the SQL."
        )
    if reserved := sorted(name for name in used if name.startswith(IDENTITY_PARAM)):
        raise UserError(f"{owner}: parameter names starting with {IDENTITY_PARAM} are journey's own ({reserved}).")
    if bad := [name for name in lookup.requires if not _IDENTIFIER.fullmatch(name)]:
        raise UserError(f"{owner}: requires {bad}, but identity fields are column names (letters, digits, _).")
    patterns = {}
    for name, regex in lookup.params.items():
        try:
            patterns[name] = re.compile(regex)
        except re.error as exc:
            raise UserError(f"{owner}: the pattern for :{name} is not a valid regex ({exc}).") from None
        if patterns[name].fullmatch(""):
            raise UserError(f"{owner}: the pattern for :{name} matches an empty string, so it would always match.")
    try:  # compiles the query in the database (unknown tables and columns) without returning rows
        columns = _columns(engine, statement, dict.fromkeys(used))
    except SQLAlchemyError as exc:
        problem = describe_error(exc)
        raise UserError(f"{owner}: its SQL does not run on database '{lookup.database}' ({problem}).") from None
    if missing := [name for name in lookup.requires if name not in columns]:
        raise UserError(
            f"{owner}: requires {missing}, but its SQL returns no such column (it returns {columns}); "
            "add the customer's column to its SELECT."
        )
    guarded = _guarded(engine, statement, lookup.requires) if lookup.requires else None
    requires = tuple(lookup.requires)
    return LiveLookup(lookup.name, lookup.description, statement, patterns, engine, requires, guarded)


def _columns(engine: Engine, statement: TextClause, params: dict[str, Any]) -> list[str]:
    """The names of the columns `statement` returns, found by running it for no rows."""
    with engine.connect() as connection:
        return list(connection.execute(text(f"SELECT * FROM ({statement.text}) AS checked WHERE 1 = 0"), params).keys())


def _guarded(engine: Engine, statement: TextClause, requires: list[str]) -> TextClause:
    """`statement` keeping only the rows whose `requires` columns equal the bound identity fields."""
    quote = engine.dialect.identifier_preparer.quote
    checks = " AND ".join(f"q.{quote(name)} = :{IDENTITY_PARAM}{name}" for name in requires)
    return text(f"SELECT * FROM ({statement.text}) AS q WHERE {checks}")
