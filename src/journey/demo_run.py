"""`journey demo`: the README's main command, run on the embedded demo company."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from journey.workspace import CONFIG_NAME, Workspace


def ensure_demo_workspace(console: Console, directory: Path) -> Workspace:
    """Create the demo workspace once; later runs reuse it."""
    if not (directory / CONFIG_NAME).is_file():
        from journey.demo import create_demo_workspace

        console.print(f"Creating the demo company in [bold]{directory}[/] …")
        create_demo_workspace(directory)
    return Workspace.load(directory)


def run_demo(console: Console, directory: Path, *, questions: int = 5) -> None:
    """Create the demo workspace if needed and ask it a few held-out questions as-is."""
    from journey.assistant import load_assistant

    workspace = ensure_demo_workspace(console, directory)
    lines = [json.loads(line) for line in workspace.eval_path.read_text(encoding="utf-8").splitlines() if line]
    picked = lines[:: max(1, len(lines) // questions)][:questions]
    assistant = load_assistant(workspace, "as-is")
    table = Table(title="as-is answers to held-out demo questions", show_lines=True)
    for column in ("question", "answer", "expected facts", "seconds"):
        table.add_column(column)
    for item in picked:
        reply = assistant.answer(item["question"])
        table.add_row(
            item["question"], reply.answer, ", ".join(item["facts"]) or "(hand-over)", f"{reply.latency_s:.1f}"
        )
    console.print(table)
