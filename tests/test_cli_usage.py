"""Every verb's usage mistakes: click's one-line message under the command's usage, exit 2, no traceback.

The verbs and their parameters are read from the typer app, so a new verb or option is covered
without editing this file.
"""

from __future__ import annotations

import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import typer
from typer.models import ArgumentInfo, OptionInfo

from journey.cli import app, main

JOURNEY = Path(sys.executable).with_name("journey")


@dataclass(frozen=True)
class Param:
    """One parameter of a verb: its spellings and arity from click, its type and range from the function."""

    name: str
    flag: str  # the option's first spelling (`--max-steps`); the argument's name for an argument
    argument: bool
    required: bool
    is_flag: bool
    kind: type | None  # int, float, str, Path, … (None for a Literal)
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None


def verbs() -> Iterator[tuple[str, list[Param]]]:
    functions = {c.name or c.callback.__name__.replace("_", "-"): c.callback for c in app.registered_commands}
    for name, command in typer.main.get_command(app).commands.items():
        hints = typing.get_type_hints(functions[name], include_extras=True)
        params = []
        for param in command.params:
            annotated = hints[param.name]
            info = next(m for m in annotated.__metadata__ if isinstance(m, ArgumentInfo | OptionInfo))
            declared = annotated.__origin__  # `int | None`, `int` or a Literal
            optional = typing.get_origin(declared) in (typing.Union, types.UnionType)
            base = next(a for a in typing.get_args(declared) if a is not type(None)) if optional else declared
            literal = typing.get_origin(base) is Literal
            params.append(
                Param(
                    name=param.name,
                    flag=param.opts[0],
                    argument=param.param_type_name == "argument",
                    required=param.required,
                    is_flag=bool(getattr(param, "is_flag", False)),
                    kind=None if literal else base,
                    choices=typing.get_args(base) if literal else (),
                    min=getattr(info, "min", None),
                    max=getattr(info, "max", None),
                )
            )
        yield name, params


def cases() -> Iterator[tuple[str, list[str], str]]:
    """(verb, arguments, the message click prints) for every usage mistake each verb can have."""
    for verb, params in verbs():
        arguments = [p for p in params if p.argument]
        needed = ["x"] * sum(p.required for p in arguments)  # so the mistake under test is the only one
        if needed:
            yield verb, [], f"Missing argument '{arguments[0].name}'"
        yield verb, [*needed, "--no-such-option"], "No such option: --no-such-option"
        for option in (p for p in params if not p.argument):
            flag = option.flag
            if option.is_flag:
                yield verb, [*needed, f"{flag}=yes"], f"Option '{flag}' does not take a value"
                continue
            yield verb, [*needed, flag], f"Option '{flag}' requires an argument"
            if option.choices:
                yield verb, [*needed, flag, "bogus"], f"Invalid value for '{flag}'"
            if option.kind in (int, float):
                yield verb, [*needed, flag, "abc"], f"Invalid value for '{flag}'"
            if option.min is not None:
                yield verb, [*needed, flag, str(option.min - 1)], f"Invalid value for '{flag}'"
            if option.max is not None:
                yield verb, [*needed, flag, str(option.max + 1)], f"Invalid value for '{flag}'"


CASES = list(cases())


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int | str | None, str]:
    monkeypatch.setattr(sys, "argv", ["journey", *args])
    for name in ("TOKENIZERS_PARALLELISM", "OMP_WAIT_POLICY"):  # the app's callback sets them; keep the test's
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exit_:
        main()
    captured = capsys.readouterr()
    return exit_.value.code, captured.out + captured.err


def test_every_verb_and_every_kind_of_mistake_is_covered() -> None:
    assert {verb for verb, _, _ in CASES} == {name for name, _ in verbs()}
    kinds = ("Missing argument", "No such option", "requires an argument", "Invalid value", "does not take a value")
    assert all(any(kind in message for _, _, message in CASES) for kind in kinds)


@pytest.mark.parametrize(("verb", "args", "message"), CASES, ids=[" ".join([v, *a]) for v, a, _ in CASES])
def test_a_usage_mistake_is_one_line_under_the_usage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], verb: str, args: list[str], message: str
) -> None:
    code, output = run_main(monkeypatch, capsys, verb, *args)
    assert code == 2, output
    assert "Traceback" not in output
    assert f"Usage: journey {verb} " in output and f"Try 'journey {verb} --help' for help." in output
    errors = [line for line in output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and message.lower() in errors[0].lower(), output


def test_no_verb_prints_the_usage_and_the_verbs_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run_main(monkeypatch, capsys)
    assert code == 2 and "Usage: journey" in output and "Traceback" not in output
    assert all(verb in output for verb, _ in verbs())


def test_help_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run_main(monkeypatch, capsys, "search", "--help")
    assert code == 0 and "Usage: journey search" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Usage: journey [OPTIONS] COMMAND"),
        (("bogus",), "Error: No such command 'bogus'."),
        (("evaluate", "--limit", "0"), "Error: Invalid value for '--limit'"),
        (("finetune", "--max-steps", "abc"), "Error: Invalid value for '--max-steps'"),
    ],
)
def test_the_installed_entry_point_says_the_same(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = subprocess.run([str(JOURNEY), *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert message in result.stdout + result.stderr and "Traceback" not in result.stdout + result.stderr


def test_importing_the_cli_loads_no_heavy_library() -> None:
    heavy = ["torch", "transformers", "peft", "lancedb", "sentence_transformers", "matplotlib", "fastapi", "pandas"]
    code = f"import sys, journey.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ("cost", "did not run"),
        ("report", "run `journey evaluate` first"),
        ("ask hi --setup magic", "Unknown set-up 'magic'"),
        ("merge out", "No adapter in"),
        ("search q", "No knowledge index in"),
        ("train", "No training corpus"),
        ("finetune", "No fine-tuning data"),
        *((f"{verb} -w missing", "does not exist") for verb in ("search q", "index", "serve", "train", "finetune")),
    ],
)
def test_light_verbs_and_error_paths_load_no_model_library(tmp_path: Path, args: str, said: str) -> None:
    (tmp_path / "journey.toml").write_text("", encoding="utf-8")
    code = (
        "import sys; from journey.cli import main; sys.argv = ['journey', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('torch', 'transformers', 'peft', 'lancedb', 'sentence_transformers', 'fastapi', 'matplotlib')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules))"
    )
    command = [sys.executable, "-c", code, *args.split()]
    result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    output = " ".join((result.stdout + result.stderr).split())
    assert said in output and "LOADED []" in output, output


def test_typer_is_what_the_handler_expects() -> None:
    """main() catches the ClickException class typer raises (its bundled copy of click, or click itself)."""
    from journey.cli import ClickException

    assert issubclass(typer.BadParameter, ClickException)
