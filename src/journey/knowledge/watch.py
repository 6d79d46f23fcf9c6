"""`journey index --watch`: keep the index in step with the sources while other commands run.

Each poll only stats files; `build_index` (itself incremental) runs when a document or
a SQLite database file changed, and on every poll when a table lives in a database
server, whose changes cannot be seen from here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import make_url

from journey.errors import UserError
from journey.io import visible_files
from journey.knowledge.index import IndexReport, build_index
from journey.workspace import Workspace

log = logging.getLogger(__name__)
Snapshot = frozenset[tuple[str, int, int]] | None


def watch(
    workspace: Workspace,
    stop_event: threading.Event,
    *,
    interval: float = 2.0,
    on_report: Callable[[IndexReport], None] | None = None,
) -> None:
    """Re-index whenever the sources change, until `stop_event` is set; `on_report` hears of each run
    that changed the index."""
    seen: Snapshot = None
    while not stop_event.is_set():
        current = snapshot(workspace)
        if current is None or current != seen:
            try:
                report = build_index(workspace, progress=False)
            except UserError as exc:
                log.warning("indexing failed: %s", exc)
            else:
                seen = current
                if on_report and report.changed:
                    on_report(report)
        stop_event.wait(interval)


def snapshot(workspace: Workspace) -> Snapshot:
    """(path, mtime, size) of every document and SQLite file behind a table; None if a table is remote.

    Documents are listed as indexing lists them (`visible_files`): a dot-file or an editor's swap file
    changing is not a reason to re-index."""
    files = visible_files(workspace.knowledge_dir)
    for table in workspace.settings.knowledge.tables:
        try:
            url = make_url(workspace.database_url(table.database))
        except UserError:
            return None  # build_index reports it
        if url.get_backend_name() != "sqlite":
            return None
        files += [Path(f"{url.database}{suffix}") for suffix in ("", "-wal")]
    stats = []
    for path in files:
        try:
            info = path.stat()
        except OSError:
            continue
        stats.append((str(path), info.st_mtime_ns, info.st_size))
    return frozenset(stats)
