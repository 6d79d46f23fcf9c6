"""`journey index` and `journey search`, in process (the model is loaded once)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from journey import cli
from journey.errors import UserError
from knowledge_workspace import make_workspace


def test_index_then_search_print_what_they_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.console, "width", 250)  # table cells on one line each
    root = str(make_workspace(tmp_path / "ws"))
    runner = CliRunner()

    before = runner.invoke(cli.app, ["search", "-w", root, "crumb tray"])
    indexed = runner.invoke(cli.app, ["index", "-w", root])
    found = runner.invoke(cli.app, ["search", "-w", root, "-k", "1", "Empty the crumb tray? ORD-1001"])

    assert isinstance(before.exception, UserError) and "journey index" in str(before.exception)
    assert indexed.exit_code == 0 and "8 added, 0 updated, 0 removed" in " ".join(indexed.output.split())
    assert "skipped knowledge/broken.pdf: unreadable PDF" in " ".join(indexed.output.split())
    assert found.exit_code == 0, found.output
    assert "doc:manual.pdf#1" in found.output and "after every 20 uses" in found.output
    assert "lookup order_status {'order_id': 'ORD-1001'}: 1 row(s)" in found.output
