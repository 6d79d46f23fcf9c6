"""Nothing lost: folders a user names as an output are guarded, malformed adapters and model folders are one
sentence naming the file, `init` into an unwritable place is one sentence, odd corpus entries are skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM

from cli_runner import run_main
from journey.errors import UserError
from journey.io import check_output_folder
from journey.models.adapters import TRAINING_INFO
from journey.train.corpus import load_corpus
from journey.training.output import save_model_folder
from journey.workspace import Workspace


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its content."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def adapter_workspace(tiny_workspace: Path, tiny_model_dir: Path) -> Path:
    """The tiny workspace with knowledge, data and a LoRA adapter written by journey's own writer."""
    (tiny_workspace / "knowledge").mkdir()
    (tiny_workspace / "knowledge" / "returns.md").write_text("# Returns\n\nWithin 41 days.\n", encoding="utf-8")
    (tiny_workspace / "data").mkdir()
    (tiny_workspace / "data" / "tickets.jsonl").write_text('{"prompt": "hi", "completion": "hello"}\n')
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(model, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
    adapter, info = Workspace.load(tiny_workspace).adapter_dir, {"base": str(tiny_model_dir)}
    save_model_folder(lora, None, adapter, info, retry="")  # an adapter: its base has the tokenizer
    return tiny_workspace


def test_merge_into_the_workspace_itself_is_refused_and_every_file_stays(
    adapter_workspace: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(adapter_workspace)
    for output in (adapter_workspace, adapter_workspace.parent, adapter_workspace / "knowledge"):
        code, said = run_main(monkeypatch, capsys, "merge", str(output), "-w", str(adapter_workspace))
        assert code == 2 and "Refusing to write to" in said and "choose a new folder" in said
    monkeypatch.chdir(adapter_workspace)
    code, said = run_main(monkeypatch, capsys, "merge", "data", "--force")
    assert code == 2 and "would delete" in said and "data" in said  # --force never overrides this
    for holding_the_adapter in (".journey/adapters", ".journey/adapters/default"):
        code, said = run_main(monkeypatch, capsys, "merge", holding_the_adapter, "--force")
        assert code == 2 and "would delete" in said and "adapters/default" in said
    assert snapshot(adapter_workspace) == before


def test_an_existing_foreign_folder_is_kept_until_force_and_journeys_own_is_replaced(
    adapter_workspace: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch, capsys
) -> None:
    foreign = tmp_path_factory.mktemp("elsewhere") / "models"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("my notes", encoding="utf-8")
    code, said = run_main(monkeypatch, capsys, "merge", str(foreign), "-w", str(adapter_workspace))
    assert code == 2 and "already holds files journey did not write" in said and "--force" in said
    assert snapshot(foreign) == {"notes.txt": b"my notes"}

    code, said = run_main(monkeypatch, capsys, "merge", str(foreign), "-w", str(adapter_workspace), "--force")
    assert code == 0 and "Merged model written to" in said
    assert not (foreign / "notes.txt").exists() and (foreign / TRAINING_INFO).is_file()
    AutoModelForCausalLM.from_pretrained(foreign)

    stamp = (foreign / TRAINING_INFO).stat().st_mtime_ns
    code, said = run_main(monkeypatch, capsys, "merge", str(foreign), "-w", str(adapter_workspace))
    assert code == 0  # journey wrote it: replaced without --force
    assert (foreign / TRAINING_INFO).stat().st_mtime_ns != stamp
    assert not list(foreign.parent.glob(".models.*"))  # no temporary or old folder left beside it


def test_finetune_output_is_guarded_before_any_work(
    adapter_workspace: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch, capsys
) -> None:
    import journey.finetune.run as finetune_run

    foreign = tmp_path_factory.mktemp("out")
    (foreign / "keep.bin").write_bytes(b"\0" * 10)

    def reached_prepare(*args, **kwargs):
        raise UserError("the guard let it through")

    monkeypatch.setattr(finetune_run, "prepare", reached_prepare)
    ws = str(adapter_workspace)
    code, said = run_main(monkeypatch, capsys, "finetune", "--output", str(foreign), "-w", ws)
    assert code == 2 and "already holds files journey did not write" in said
    code, said = run_main(monkeypatch, capsys, "finetune", "--output", ws, "-w", ws, "--force")
    assert code == 2 and "Refusing to write to" in said
    for allowed in ([str(foreign), "--force"], [str(Workspace.load(ws).adapter_dir)], []):
        flags = ["--output", *allowed] if allowed else []
        code, said = run_main(monkeypatch, capsys, "finetune", *flags, "-w", ws)
        assert code == 2 and "the guard let it through" in said
    assert (foreign / "keep.bin").read_bytes() == b"\0" * 10


def test_the_guard_refuses_a_file_and_accepts_a_missing_or_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file", protected=[], marker=TRAINING_INFO, force=True)
    for fine in ("missing", "empty"):
        check_output_folder(tmp_path / fine, protected=[tmp_path / "ws"], marker=TRAINING_INFO, force=False)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda a: (a / "adapter_config.json").write_text("{}"), "adapter_config.json names no peft_type"),
        (lambda a: (a / "adapter_config.json").write_text("{not json"), "adapter_config.json could not be read"),
        (lambda a: (a / "adapter_config.json").write_text("[1, 2]"), "adapter_config.json holds a JSON list"),
        (
            lambda a: (a / "adapter_model.safetensors").write_bytes(
                (a / "adapter_model.safetensors").read_bytes()[:-9]
            ),
            "adapter_model.safetensors is damaged or truncated",
        ),
        (lambda a: (a / "adapter_model.safetensors").unlink(), "has no weights (adapter_model.safetensors"),
        (
            lambda a: (a / "adapter_config.json").write_text(json.dumps({"peft_type": "NOT_A_METHOD"})),
            "does not load onto",
        ),
    ],
)
def test_a_malformed_adapter_is_one_sentence_naming_the_file(
    adapter_workspace: Path, monkeypatch, capsys, damage, message: str
) -> None:
    adapter = Workspace.load(adapter_workspace).adapter_dir
    damage(adapter)
    code, said = run_main(monkeypatch, capsys, "merge", str(adapter_workspace / "out"), "-w", str(adapter_workspace))
    assert code == 2 and message in said and str(adapter) in said
    assert not (adapter_workspace / "out").exists()


def test_the_finetuned_setup_names_a_damaged_adapter_too(adapter_workspace: Path, monkeypatch, capsys) -> None:
    (Workspace.load(adapter_workspace).adapter_dir / "adapter_config.json").write_text("{}")
    code, said = run_main(monkeypatch, capsys, "ask", "hello", "--setup", "finetuned", "-w", str(adapter_workspace))
    assert code == 2 and "adapter_config.json names no peft_type" in said


def test_a_model_folder_without_weights_is_named(adapter_workspace: Path, tiny_model_dir: Path, monkeypatch, capsys):
    adapter = Workspace.load(adapter_workspace).adapter_dir
    (adapter / "config.json").write_text((tiny_model_dir / "config.json").read_text())  # a full fine-tune's folder
    code, said = run_main(monkeypatch, capsys, "merge", str(adapter_workspace / "out"), "-w", str(adapter_workspace))
    assert code == 2 and f"{adapter} has no weights (model.safetensors" in said
    (adapter / "config.json").write_text('{"vocab_size": 3}')
    code, said = run_main(monkeypatch, capsys, "merge", str(adapter_workspace / "out"), "-w", str(adapter_workspace))
    assert code == 2 and "config.json names no model_type" in said
    code, said = run_main(monkeypatch, capsys, "ask", "hello", "--setup", "finetuned", "-w", str(adapter_workspace))
    assert code == 2 and "config.json names no model_type" in said  # the set-up that loads it says the same


def test_init_into_an_unwritable_place_is_one_sentence(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "a-file").write_text("x")
    code, said = run_main(monkeypatch, capsys, "init", str(tmp_path / "a-file" / "bot"))
    assert code == 2 and f"Could not write a workspace in {tmp_path / 'a-file' / 'bot'}: Not a directory." in said

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)  # as root, chmod would not stop the write
    code, said = run_main(monkeypatch, capsys, "init", str(tmp_path / "bot"))
    assert code == 2 and "Could not write a workspace in" in said and "Permission denied." in said


def test_a_folder_named_like_a_text_file_is_skipped_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "journey.toml").write_text("[train]\ninclude_knowledge = false\ninclude_tickets = false\n")
    corpus = tmp_path / "data" / "corpus"
    (corpus / "notes.txt").mkdir(parents=True)
    (corpus / "shop.txt").write_text("We sell tents.", encoding="utf-8")
    loaded = load_corpus(Workspace.load(tmp_path))
    assert loaded.files == 1 and loaded.documents == ["We sell tents."]
    assert loaded.skipped == ["data/corpus/notes.txt: not a file"]
