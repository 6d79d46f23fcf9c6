"""Run `journey.cli.main` in process as the installed command would, for tests of what a user sees."""

from __future__ import annotations

import sys

import pytest

from journey.cli import main


def run_main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`journey ARGS`: its exit code and its output on one line; no traceback may reach the user."""
    monkeypatch.setattr(sys, "argv", ["journey", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "Traceback" not in output
    return exit_.value.code, " ".join(output.split())
