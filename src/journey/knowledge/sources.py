"""What there is to index: each knowledge document and each table-source row, with a content digest.

Reading is cheap (bytes and query rows); parsing a document waits until it is known
to have changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from journey.errors import UserError
from journey.io import visible_files
from journey.knowledge.database import describe_error, fetch, read_only_engine, read_only_statement
from journey.knowledge.documents import SUFFIXES, Document, Section, read_document
from journey.workspace import TableSource, Workspace


@dataclass(frozen=True)
class Skipped:
    """A source that was not indexed, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class Unit:
    """One document or one table row: replaced as a whole when its digest changes."""

    id: str
    source: str
    digest: str
    path: Path | None = None  # a document file, parsed only when needed
    document: Document | None = None  # a rendered table row

    def read(self) -> Document:
        return self.document if self.document is not None else read_document(self.path)


@dataclass
class Inventory:
    units: list[Unit] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    kept: tuple[str, ...] = ()  # id prefixes of sources that failed: their indexed chunks stay


def take_inventory(workspace: Workspace, fingerprint: str) -> Inventory:
    """List every unit; `fingerprint` (model and chunking settings) is part of each digest."""
    inventory = Inventory()
    _add_documents(workspace, fingerprint, inventory)
    for table in workspace.settings.knowledge.tables:
        _add_table_rows(workspace, table, fingerprint, inventory)
    return inventory


def _digest(fingerprint: str, *parts: bytes) -> str:
    return hashlib.sha256(b"\0".join([fingerprint.encode(), *parts])).hexdigest()


def _add_documents(workspace: Workspace, fingerprint: str, inventory: Inventory) -> None:
    folder = workspace.knowledge_dir
    if not folder.is_dir():
        inventory.skipped.append(Skipped(_shown(folder, workspace.root), "documents folder does not exist"))
        return
    for path in visible_files(folder):
        relative = path.relative_to(folder)
        source = _shown(path, workspace.root)
        if path.suffix.lower() not in SUFFIXES:
            inventory.skipped.append(Skipped(source, f"unsupported file type; supported: {' '.join(SUFFIXES)}"))
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            inventory.skipped.append(Skipped(source, f"cannot read it ({exc.strerror})"))
            continue
        if not data.strip():
            inventory.skipped.append(Skipped(source, "empty file"))
            continue
        unit_id = f"doc:{relative.as_posix()}"
        inventory.units.append(Unit(unit_id, source, _digest(fingerprint, data), path=path))


def _add_table_rows(workspace: Workspace, table: TableSource, fingerprint: str, inventory: Inventory) -> None:
    """One unit per row; if the query or a template fails, keep what was indexed before."""
    source = f"table {table.name}"
    try:
        statement = read_only_statement(table.query, f"table '{table.name}'")
        rows = fetch(read_only_engine(workspace.database_url(table.database)), statement, {})
        rendered = _render(table, rows)
    except UserError as exc:
        reason = str(exc)
    except SQLAlchemyError as exc:
        reason = f"query failed ({describe_error(exc)})"
    else:
        for unit_id, (title, text) in rendered.items():
            document = Document(title, [Section("", text)])
            digest = _digest(fingerprint, title.encode(), text.encode())
            inventory.units.append(Unit(unit_id, source, digest, document=document))
        return
    inventory.skipped.append(Skipped(source, f"{reason} (its previously indexed rows are kept)"))
    inventory.kept += (f"table:{table.name}:",)


def _render(table: TableSource, rows: list[dict]) -> dict[str, tuple[str, str]]:
    """Unit id -> (title, text) for each row; the first row wins if ids repeat."""
    title_template = table.title_template or f"{table.name} {{{table.id_column}}}"
    rendered: dict[str, tuple[str, str]] = {}
    for row in rows:
        try:
            unit_id = f"table:{table.name}:{row[table.id_column]}"
            rendered.setdefault(unit_id, (title_template.format(**row), table.template.format(**row)))
        except KeyError as exc:
            raise UserError(f"{{{exc.args[0]}}} is not a column of its query (columns: {', '.join(row)})") from None
        except (ValueError, IndexError) as exc:
            raise UserError(f"a template cannot render the row {row} ({exc})") from None
    return rendered


def _shown(path: Path, root: Path) -> str:
    """A path as users see it: relative to the workspace when inside it."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
