"""The command line as a user meets it: clear errors, non-zero exits, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def journey(*args: str, cwd: Path | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journey", *args], capture_output=True, text=True, cwd=cwd, input=stdin, timeout=300
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert message in " ".join((result.stderr + result.stdout).split())


def test_init_writes_a_template_that_loads_and_refuses_to_overwrite(tmp_path: Path) -> None:
    first = journey("init", str(tmp_path / "bot"))
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "bot" / "knowledge").is_dir()
    from journey.workspace import Workspace

    settings = Workspace.load(tmp_path / "bot").settings
    assert settings.assistant.escalation and "{company}" in settings.assistant.system_prompt
    assert_clean_failure(journey("init", str(tmp_path / "bot")), "already exists")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ask", "hello", "-w", "/nonexistent/ws"), "does not exist"),
        (("ask", "hello", "--setup", "magic"), "Unknown set-up 'magic'"),
        (("ask", "   "), "The question is empty"),
    ],
)
def test_bad_input_is_one_clear_message(tiny_workspace: Path, args: tuple[str, ...], message: str) -> None:
    assert_clean_failure(journey(*args, cwd=tiny_workspace), message)


def test_malformed_config_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "journey.toml").write_text("[model]\nmax_new_tokens = 'many'\n", encoding="utf-8")
    assert_clean_failure(journey("ask", "hi", "-w", str(tmp_path)), "model.max_new_tokens")


def test_ask_and_chat_answer_with_the_tiny_model(tiny_workspace: Path) -> None:
    asked = journey("ask", "Where is my order?", cwd=tiny_workspace)
    assert asked.returncode == 0, asked.stderr
    assert "as-is ·" in asked.stdout and " s · " in asked.stdout
    chatted = journey("chat", cwd=tiny_workspace, stdin="Where is my order?\n/reset\nI need a lawyer\n/quit\n")
    assert chatted.returncode == 0, chatted.stderr
    assert "history cleared" in chatted.stdout
    assert "handed over to a human (rule:legal)" in chatted.stdout
