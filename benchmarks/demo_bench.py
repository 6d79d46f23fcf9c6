"""What the evaluation benchmarks share: a fresh demo workspace, indexed where a set-up needs it, warmed up."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from rich.console import Console

from journey.demo import create_demo_workspace
from journey.evaluate.runner import evaluate
from journey.workspace import Workspace


@contextmanager
def warm_demo(setups: list[str], threads: int | None, console: Console) -> Iterator[Workspace]:
    """The demo workspace in a temporary folder, its index built for augmented set-ups, one question answered
    by each set-up (model conversion, caches) before anything is timed; `threads`: torch's, if given."""
    if threads:
        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        create_demo_workspace(root)
        workspace = Workspace.load(root)
        if any(s.endswith("augmented") for s in setups):
            from journey.knowledge import build_index

            build_index(workspace, progress=False)
        evaluate(workspace, setups, console=console, limit=1, run_id="warm-up")
        yield workspace
