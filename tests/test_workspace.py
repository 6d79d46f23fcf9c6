from pathlib import Path

import pytest

from journey.errors import UserError
from journey.workspace import (
    DEFAULT_BASE,
    FinetuneSettings,
    TrainSettings,
    Workspace,
    resolve_sqlite_url,
    with_overrides,
)


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "journey.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_five_line_file_gets_sensible_defaults(tmp_path: Path) -> None:
    ws = Workspace.load(write(tmp_path, '[project]\nname = "Acme"\n[model]\nmax_new_tokens = 50\n'))
    assert ws.settings.project.name == "Acme"
    assert ws.settings.model.base == DEFAULT_BASE
    assert ws.settings.model.max_new_tokens == 50
    assert ws.settings.evaluate.setups[0] == "as-is"
    assert ws.state_dir == tmp_path.resolve() / ".journey"


def test_missing_workspace_and_missing_config_say_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        Workspace.load(tmp_path / "nope")
    with pytest.raises(UserError, match="journey init"):
        Workspace.load(tmp_path)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"journey\.toml: not valid TOML"):
        Workspace.load(write(tmp_path, "[model\nbase = 1"))


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[model]\nmax_new_tokens = -3\n", "model.max_new_tokens"),
        ("[model]\nbasee = 'x'\n", "model.basee"),
        ("[evaluate]\nsetups = ['as-is', 'magic']\n", "evaluate.setups"),
        ("[[assistant.escalation]]\nname = 'x'\nkeywords = []\n", "assistant.escalation.0.keywords"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(UserError) as info:
        Workspace.load(write(tmp_path, text))
    assert key in str(info.value)
    assert "journey.toml" in str(info.value)


def test_command_line_overrides_are_validated_as_one_sentence() -> None:
    """Both training commands put their flags on top of journey.toml's section with the same helper."""
    settings = with_overrides(FinetuneSettings(), what="fine-tuning", max_steps=3, method=None)
    assert settings.max_steps == 3 and settings.method == FinetuneSettings().method  # None: not given
    assert with_overrides(TrainSettings(), what="training", preset="small").preset == "small"
    with pytest.raises(UserError) as info:
        with_overrides(FinetuneSettings(), what="fine-tuning", method="half", lora_r=0)
    assert str(info.value).startswith("Invalid fine-tuning option: method: Input should be 'lora' or 'full'; lora_r:")
    with pytest.raises(UserError, match=r"^Invalid training option: max_steps: "):
        with_overrides(TrainSettings(), what="training", max_steps=0)


def test_relative_sqlite_urls_resolve_inside_the_workspace(tmp_path: Path) -> None:
    assert resolve_sqlite_url("sqlite:///data/shop.sqlite", tmp_path) == f"sqlite:///{tmp_path}/data/shop.sqlite"
    assert resolve_sqlite_url("sqlite:////abs/x.db", tmp_path) == "sqlite:////abs/x.db"
    assert resolve_sqlite_url("postgresql://u@h/db", tmp_path) == "postgresql://u@h/db"


def test_undeclared_database_is_a_clear_error(tmp_path: Path) -> None:
    ws = Workspace.load(write(tmp_path, "[knowledge]\ndatabases = { shop = 'sqlite:///s.db' }\n"))
    assert ws.database_url("shop").endswith("/s.db")
    with pytest.raises(UserError, match="'crm' is not declared"):
        ws.database_url("crm")


def test_atomic_writes_get_ordinary_permissions(tmp_path: Path) -> None:
    import os

    from journey.io import atomic_write_text

    target = tmp_path / "report.md"
    atomic_write_text(target, "hello")
    mask = os.umask(0)
    os.umask(mask)
    assert target.read_text() == "hello"
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_atomic_directory_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    import os

    import pytest

    from journey.io import atomic_directory

    target = tmp_path / "adapter"
    with atomic_directory(target) as tmp:
        (tmp / "weights.bin").write_bytes(b"v1")
        (tmp / "weights.bin").chmod(0o600)  # as some writers (safetensors) leave their files
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o777 & ~mask  # not mkdtemp's 0700: a server may run as another user
    assert (target / "weights.bin").stat().st_mode & 0o777 == 0o666 & ~mask

    with pytest.raises(OSError), atomic_directory(target) as tmp:
        (tmp / "weights.bin").write_bytes(b"v2-half")
        raise OSError(28, "No space left on device")
    assert (target / "weights.bin").read_bytes() == b"v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]  # no temporary folder left behind
