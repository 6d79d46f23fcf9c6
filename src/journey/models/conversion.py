"""What the converted-model caches (ONNX, GGUF) share: the digest a conversion is keyed by, the architecture named."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def digest(folders: list[Path | None], settings: list[str]) -> str:
    """What a conversion depends on: the folders' file names, sizes and modification times, and the settings."""
    parts = list(settings)
    for folder in filter(None, folders):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            stat = path.stat()
            parts.append(f"{path.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def architecture(folder: Path) -> str:
    """The model's architectures as its config.json names them ("its" when it names none)."""
    try:
        return ", ".join(json.loads((folder / "config.json").read_text(encoding="utf-8"))["architectures"])
    except (OSError, ValueError, KeyError, TypeError):
        return "its"
