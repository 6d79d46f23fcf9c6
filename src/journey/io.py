"""Small file helpers shared by every step: atomic writes, the guard on folders a user names as an
output, the one rule for which files of a user's folder count, and line-numbered JSONL reading."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journey.errors import UserError


def atomic_write_text(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


@contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces `target` in one rename.

    A crash or a full disk mid-way leaves `target` as it was, so no half-written
    model or adapter is ever loaded.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        _usual_permissions(tmp)
        replace_directory(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_output_folder(target: Path, *, protected: Iterable[Path], marker: str, force: bool) -> None:
    """Refuse to replace `target` when that would delete what journey did not write (docs/design.md,
    "Workspace layout": the user brings the workspace; journey writes under `.journey/`).

    Always refused: one of `protected` (a workspace's own folders) or a folder holding one, and a
    file. Refused unless `force`: an existing non-empty folder without `marker`, the file journey
    writes into every folder it makes. A missing or empty folder, or one journey wrote, is fine.
    """
    resolved = target.resolve()  # a link to the workspace is the workspace
    for folder in protected:
        if folder.resolve().is_relative_to(resolved):
            raise UserError(f"Refusing to write to {target}: replacing it would delete {folder}; choose a new folder.")
    if resolved.exists() and not resolved.is_dir():
        raise UserError(f"{target} is a file, not a folder; choose a new folder.")
    if resolved.is_dir() and any(resolved.iterdir()) and not (resolved / marker).is_file() and not force:
        raise UserError(
            f"{target} already holds files journey did not write (no {marker}): choose a new or empty folder, "
            "or pass --force to replace it."
        )


def replace_directory(source: Path, target: Path) -> None:
    """Put the finished folder `source` in the place of `target` (which may not exist yet)."""
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(source, target)
    shutil.rmtree(old, ignore_errors=True)


def _usual_permissions(folder: Path) -> None:
    """mkdtemp makes 0700 and some writers 0600: a saved model is readable like any file (a server may run
    as another user)."""
    mask = _umask()
    folder.chmod(0o777 & ~mask)
    for path in folder.rglob("*"):
        path.chmod((0o777 if path.is_dir() else 0o666) & ~mask)


def visible_paths(folder: Path, pattern: str = "*") -> list[Path]:
    """Every entry under `folder` matching `pattern`, recursively and sorted, that is not hidden: no part of
    its path relative to `folder` starts with a dot (.git/, .DS_Store, ._notes.md, an editor's .swp).

    Files or not: a caller that reports a folder named like a document uses this; most want `visible_files`.
    """
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob(pattern)
        if not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def visible_files(folder: Path, pattern: str = "*") -> list[Path]:
    """The files of a user's folder that journey reads (knowledge, corpus): `visible_paths` that are regular
    files (or links to one). Indexing, training, watching and counting all list a folder with this rule."""
    return [path for path in visible_paths(folder, pattern) if path.is_file()]


@dataclass(frozen=True)
class JsonlProblem:
    """A JSONL line that could not be used, with where it was."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


def read_jsonl(path: Path) -> Iterator[tuple[int, Any] | JsonlProblem]:
    """Yield `(line_number, object)` for each JSON line, or a `JsonlProblem` for a bad one.

    Blank lines are skipped. Callers decide whether problems are skipped or fatal.
    """
    if not path.is_file():
        raise UserError(f"{path} does not exist.")
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield JsonlProblem(path, number, f"not valid JSON ({exc.msg})")
