"""`journey finetune --method dpo|kto` on the tiny model: TRL's DPOTrainer and KTOTrainer train the fine-tuned LoRA
adapter further on harvested feedback into an adapter of their own that loads and answers differently, resume from
their checkpoints, and say in one sentence what is missing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from tests.cli_runner import run_main

from journey.assistant.setups import resolve_setup
from journey.finetune import finetune
from journey.finetune.preference import preference_finetune
from journey.models.adapters import attach_adapter, training_info
from journey.models.loading import load_model
from journey.training.preferences import harvest_paths
from journey.workspace import Workspace

QUESTION = "Where is my order LK-123456?"
GOOD = "Your order has been shipped with a tracking code."
BAD = "Hello! Thanks for contacting us."


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def assistant(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def write_harvest(workspace: Workspace) -> None:
    """What `journey harvest` writes (tests/test_harvest.py checks that it does), reviewed and kept."""
    paths = harvest_paths(workspace)
    questions = [QUESTION, "What does shipping cost?", "How long do I have to return it?", "Hello"]
    pairs = [{"prompt": user(q), "chosen": assistant(GOOD), "rejected": assistant(BAD)} for q in questions]
    labels = [{"prompt": user(q), "completion": assistant(GOOD), "label": True} for q in questions[:3]]
    labels += [{"prompt": user(q), "completion": assistant(BAD), "label": False} for q in questions[1:]]
    for path, records in ((paths.pairs, pairs), (paths.labels, labels)):
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Workspace:
    """A workspace with a LoRA fine-tune of the tiny model and harvested feedback."""
    root = tmp_path_factory.mktemp("pref")
    (root / "journey.toml").write_text(
        f'[project]\nname = "Testshop"\n[model]\nbase = "{tiny_model_dir}"\n'
        '[assistant]\nsystem_prompt = "You are the assistant of {{company}}."\n'
        "[finetune]\nseq_len = 256\nbatch_tokens = 512\nlearning_rate = 0.01\nval_fraction = 0\nbf16 = false\n"
        "[preference]\nlearning_rate = 0.01\nbatch_size = 2\nmax_length = 160\ncheckpoint_every = 2\n",
        encoding="utf-8",
    )
    (root / "data").mkdir()
    tickets = [{"messages": user(QUESTION) + assistant(GOOD)}, {"messages": user("Hello") + assistant(BAD)}] * 4
    (root / "data" / "tickets.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tickets), encoding="utf-8")
    workspace = Workspace.load(root)
    finetune(workspace, max_steps=4, augmentation_aware=False, progress=False)
    write_harvest(workspace)
    return workspace


def logits(workspace: Workspace, adapter: Path) -> torch.Tensor:
    model, tokenizer = load_model(workspace.settings.model.base, dtype="float32")
    model = attach_adapter(model, adapter, base=workspace.settings.model.base)
    prompt = [{"role": "system", "content": "You are the assistant of Testshop."}, *user(QUESTION)]
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        return model(**ids).logits[0, -1]


@pytest.mark.parametrize("kind", ["dpo", "kto"])
def test_a_preference_stage_writes_its_own_adapter_that_changes_the_answers(tuned: Workspace, kind: str) -> None:
    sft_before = (tuned.adapter_dir / "adapter_model.safetensors").read_bytes()
    output = tuned.preference_adapter_dir if kind == "dpo" else tuned.adapters_dir / "kto"
    if kind == "kto":  # bf16 forced, as on a CPU that executes it natively (TRL then needs use_cpu)
        bf16 = tuned.settings.finetune.model_copy(update={"bf16": True})
        tuned = replace(tuned, settings=tuned.settings.model_copy(update={"finetune": bf16}))
    report = preference_finetune(tuned, kind, output=output, max_steps=3, progress=False)
    assert report.precision.startswith("bfloat16" if kind == "kto" else "float32")
    assert report.steps == 3 and report.examples == (4 if kind == "dpo" else 6)
    assert report.train_loss == report.train_loss  # a number, not NaN
    info = training_info(output)
    assert info["method"] == kind and info["adapter"] == str(tuned.adapter_dir) and info["steps"] == 3
    assert not (output / "ref").exists()  # TRL's frozen reference copy is not saved
    assert (tuned.adapter_dir / "adapter_model.safetensors").read_bytes() == sft_before  # the SFT adapter as it was
    assert not torch.allclose(logits(tuned, output), logits(tuned, tuned.adapter_dir), atol=1e-4)
    summary = json.loads((report.run_dir / "run.json").read_text(encoding="utf-8"))
    assert summary["kind"] == f"finetune-{kind}" and summary["steps"] == 3
    if kind == "dpo":
        assert resolve_setup(tuned, "preference-tuned").adapter == output  # the set-up that loads it
        assert "rewards/accuracies" in report.metrics


def test_resume_continues_from_the_checkpoint(tuned: Workspace) -> None:
    output = tuned.adapters_dir / "resumed"
    preference_finetune(tuned, "dpo", output=output, max_steps=2, progress=False)  # checkpoint at step 2
    report = preference_finetune(tuned, "dpo", output=output, max_steps=4, resume=True, progress=False)
    assert report.steps == 4
    checkpoints = sorted(p.name for p in (tuned.checkpoints_dir / "preference-resumed").glob("checkpoint-*"))
    assert checkpoints == ["checkpoint-2", "checkpoint-4"]


def test_no_harvested_feedback_is_one_sentence(tmp_path: Path, tiny_model_dir: Path, monkeypatch, capsys) -> None:
    (tmp_path / "journey.toml").write_text(f'[model]\nbase = "{tiny_model_dir}"\n', encoding="utf-8")
    code, output = run_main(monkeypatch, capsys, "finetune", "--method", "dpo", "-w", str(tmp_path))
    assert code == 2
    assert "No harvested preference pairs" in output and "journey harvest" in output
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "harvested_kto.jsonl").write_text(
        json.dumps({"prompt": user("Hi"), "completion": assistant("Hello"), "label": True}) + "\n", encoding="utf-8"
    )
    code, output = run_main(monkeypatch, capsys, "finetune", "--method", "kto", "-w", str(tmp_path))
    assert code == 2 and "are thumbs up: KTO needs both kinds" in output
    code, output = run_main(monkeypatch, capsys, "finetune", "--method", "dpo", "--lora-r", "4", "-w", str(tmp_path))
    assert code == 2 and "--lora-r: the DPO stage continues the fine-tuned adapter" in output
