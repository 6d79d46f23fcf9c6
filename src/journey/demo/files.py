"""Atomic binary writes (the text counterpart lives in journey.io) and a SQLite database as bytes."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sqlite_bytes(schema: str, tables: dict[str, list[tuple]]) -> bytes:
    """A SQLite database built in memory from `schema` and each table's rows (inserted in that order)."""
    with sqlite3.connect(":memory:") as db:
        db.executescript(schema)
        for table, rows in tables.items():
            if rows:
                db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)
        payload = db.serialize()
    db.close()
    return payload
