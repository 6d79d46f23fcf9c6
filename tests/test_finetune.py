"""`journey finetune` and `journey merge` end to end on the tiny model: save, load, stop, resume, merge, refuse."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

import journey.finetune.run as finetune_run
from conftest import build_tiny_model
from journey.errors import UserError
from journey.finetune import finetune, merge
from journey.models import load_backend
from journey.records import stage_records
from journey.workspace import Workspace

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PAIRS = [
    ("How long do I have to return it?", "Returns are accepted within 41 days of delivery."),
    ("What does shipping cost?", "Standard shipping costs 4.85 and takes three working days."),
    ("Where is my order?", "Your order has been shipped with a tracking code."),
    ("Hello", "Hello! Thanks for contacting us. How can I help you today?"),
]


def make_workspace(root: Path, base: Path, *, tickets: int = 24, bf16: bool = False) -> Workspace:
    """A workspace on the tiny model with `tickets` short conversations and one unusable line."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "journey.toml").write_text(
        f"""
[project]
name = "Testshop"
[model]
base = "{base}"
max_new_tokens = 40
dtype = "float32"  # generation compared exactly: not the bf16 that auto picks on AMX CPUs
[assistant]
system_prompt = "You are the assistant of {{company}}."
[finetune]
seq_len = 256
batch_tokens = 512
learning_rate = 0.01
eval_every = 4
val_fraction = 0.1
dev_fraction = 0  # 4 distinct conversations: a development split would hold one of them out whole
bf16 = {str(bf16).lower()}
""",
        encoding="utf-8",
    )
    lines = [
        json.dumps({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})
        for q, a in (PAIRS[i % len(PAIRS)] for i in range(tickets))
    ]
    lines.append(json.dumps({"messages": [{"role": "robot", "content": "beep"}]}))
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "tickets.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Workspace.load(root)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> tuple[Workspace, object]:
    """One LoRA fine-tune shared by the tests that only read its result."""
    workspace = make_workspace(tmp_path_factory.mktemp("ft"), tiny_model_dir)
    return workspace, finetune(workspace, max_steps=80, progress=False)


def _logits(model: torch.nn.Module, text_ids: list[int]) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=torch.tensor([text_ids])).logits


def test_the_adapter_is_saved_with_its_provenance_and_loads_in_plain_peft(trained, tiny_model_dir: Path) -> None:
    workspace, report = trained
    adapter = workspace.adapters_dir / "default"
    assert report.steps == 80 and report.tokens > 0 and report.output == adapter
    assert report.val_loss is not None and report.val_loss < 2.0  # learnt (random: ln(400) ≈ 6)
    assert report.skipped == [f"{workspace.tickets_path}:25: message 1 has unknown role 'robot' (expected "
                              "system, user, assistant)"]  # fmt: skip
    weights = load_file(adapter / "adapter_model.safetensors")
    assert weights and all(w.dtype == torch.float32 for w in weights.values())
    info = json.loads((adapter / "journey_training.json").read_text())
    assert info["base"] == str(tiny_model_dir) and info["method"] == "lora"
    assert info["data_sha256"] == hashlib.sha256(workspace.tickets_path.read_bytes()).hexdigest()
    run = json.loads((report.run_dir / "run.json").read_text())
    assert run["tokens"] == report.tokens and run["seconds"] > 0 and run["parameters"] > run["trainable_parameters"]
    assert run["flops"] == 6 * run["parameters"] * run["tokens"]
    assert run["kind"] == "finetune"  # every run folder says what it is, as evaluation runs do
    record = stage_records(workspace)["finetune"]  # what `journey cost` and the demo read
    assert (record.seconds, record.tokens, record.flops) == (report.seconds, report.tokens, report.flops)
    assert record.run == report.run_dir.name and record.settings["max_steps"] == 80 and not record.budget_limited
    assert (report.run_dir / "loss.png").is_file() and (report.run_dir / "loss.csv").is_file()

    ours = load_backend(workspace.settings.model, base=str(tiny_model_dir), adapter=adapter, name="finetuned").model
    plain = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), str(adapter))
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = list(range(5, 40))
    assert torch.allclose(_logits(ours, ids), _logits(plain, ids), atol=1e-4)  # ours is merged: float rounding
    assert not torch.allclose(_logits(base, ids), _logits(plain, ids), atol=1e-3)


def test_the_fine_tuned_model_answers_in_style_and_stops_at_end_of_turn(trained, tiny_model_dir: Path) -> None:
    workspace, _ = trained
    backend = load_backend(
        workspace.settings.model, base=str(tiny_model_dir), adapter=workspace.adapters_dir / "default", name="ft"
    )
    from journey.assistant.prompts import build_messages, system_prompt

    prompts = [build_messages(system_prompt(workspace.settings), question) for question, _ in PAIRS]
    replies = backend.generate(prompts, max_new_tokens=40)
    assert [r.text for r in replies] == [answer for _, answer in PAIRS]
    assert all(r.completion_tokens < 40 for r in replies)  # each ended its turn instead of running on


def test_merge_writes_a_folder_plain_transformers_loads(trained, tmp_path: Path, tiny_model_dir: Path) -> None:
    workspace, _ = trained
    folder = merge(workspace, tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(folder)
    peft = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), workspace.adapters_dir / "default"
    )
    ids = list(range(5, 40))
    assert torch.allclose(_logits(merged, ids), _logits(peft, ids), atol=1e-4)
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()


def test_an_adapter_from_another_base_is_refused_with_both_names(trained, tmp_path: Path) -> None:
    workspace, _ = trained
    other = build_tiny_model(tmp_path / "other-base", seed=1)
    elsewhere = make_workspace(tmp_path / "ws", other)
    with pytest.raises(UserError) as refused:
        merge(elsewhere, tmp_path / "merged", adapter=workspace.adapters_dir / "default")
    assert str(other) in str(refused.value) and str(workspace.settings.model.base) in str(refused.value)


def test_resume_after_ctrl_c_ends_where_a_straight_run_does(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    straight = make_workspace(tmp_path / "straight", tiny_model_dir, bf16=True)  # also: the bf16 path
    finetune(straight, max_steps=8, progress=False)

    halves = make_workspace(tmp_path / "halves", tiny_model_dir, bf16=True)
    fit = finetune_run.fit

    def interrupted_fit(*args, **kwargs):
        def ctrl_c(step: int, model: torch.nn.Module) -> None:
            raise KeyboardInterrupt

        return fit(*args, **kwargs, on_eval=ctrl_c)

    monkeypatch.setattr(finetune_run, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        finetune(halves, max_steps=8, progress=False)
    assert not (halves.adapters_dir / "default").exists()  # nothing half-trained is published
    (checkpoint,) = halves.root.glob(".journey/checkpoints/*/checkpoint/model.safetensors")
    assert load_file(checkpoint) and all("lora_" in name for name in load_file(checkpoint))  # not the frozen base
    monkeypatch.setattr(finetune_run, "fit", fit)
    report = finetune(halves, max_steps=8, resume=True, progress=False)

    assert report.steps == 8
    a = load_file(straight.adapters_dir / "default" / "adapter_model.safetensors")
    b = load_file(halves.adapters_dir / "default" / "adapter_model.safetensors")
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)

    with (halves.tickets_path).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"prompt": "New?", "completion": "Yes."}) + "\n")
    with pytest.raises(UserError, match="Cannot resume: data_sha256, examples_sha256 changed"):
        finetune(halves, max_steps=8, resume=True, progress=False)


def test_full_fine_tune_writes_a_model_folder_the_finetuned_setup_loads(tmp_path: Path, tiny_model_dir: Path) -> None:
    workspace = make_workspace(tmp_path, tiny_model_dir, tickets=12)
    report = finetune(workspace, method="full", max_steps=2, progress=False)
    assert report.trainable_parameters == report.parameters
    assert (report.output / "config.json").is_file() and (report.output / "tokenizer.json").is_file()
    from journey.assistant import load_assistant

    assert load_assistant(workspace, "finetuned").answer("Where is my order?").answer


def test_bad_input_is_one_clear_message(tmp_path: Path, tiny_model_dir: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", tiny_model_dir, tickets=8)
    for call, message in [
        (lambda: finetune(workspace, augmentation_aware=True), "needs the knowledge index: run `journey index` first"),
        (lambda: finetune(workspace, resume=True), "Nothing to resume"),
        (lambda: merge(workspace, tmp_path / "out"), "No adapter in"),
    ]:
        with pytest.raises(UserError, match=re.escape(message)):
            call()

    tiny = make_workspace(tmp_path / "tiny", tiny_model_dir, tickets=1)
    for args, message in [
        (("finetune", "-w", str(tiny.root)), "Only 1 usable conversation(s): too few for a validation split"),
        (("finetune", "-w", str(workspace.root), "--method", "half"), "method: Input should be 'lora' or 'full'"),
    ]:
        result = subprocess.run([sys.executable, "-m", "journey", *args], capture_output=True, text=True, timeout=300)
        output = " ".join((result.stdout + result.stderr).split())
        assert result.returncode == 2 and message in output and "Traceback" not in output, output


def test_two_processes_under_torchrun_train_one_adapter(tmp_path: Path, tiny_model_dir: Path) -> None:
    workspace = make_workspace(tmp_path, tiny_model_dir)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "journey"]
    command += ["finetune", "--max-steps", "4", "-w", str(workspace.root)]
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("Fine-tuned") == 1  # one process group: one summary, from the main process
    (run,) = workspace.runs_dir.glob("finetune-*/run.json")
    assert json.loads(run.read_text())["steps"] == 4
    assert (workspace.adapters_dir / "default" / "adapter_model.safetensors").is_file()


def test_a_failed_save_leaves_the_previous_adapter_whole(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = make_workspace(tmp_path, tiny_model_dir, tickets=12)
    finetune(workspace, max_steps=2, progress=False)
    adapter = workspace.adapters_dir / "default"
    before = {p.name: p.read_bytes() for p in adapter.iterdir()}

    def disk_full(self, folder, **kwargs) -> None:
        (Path(folder) / "adapter_model.safetensors").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(PeftModel, "save_pretrained", disk_full)
    with pytest.raises(UserError, match=r"No space left on device.*unchanged.*--resume"):
        finetune(workspace, max_steps=2, progress=False)
    assert {p.name: p.read_bytes() for p in adapter.iterdir()} == before
    assert [p.name for p in workspace.adapters_dir.iterdir()] == ["default"]  # no half-written folder left
    monkeypatch.undo()
    assert finetune(workspace, max_steps=2, resume=True, progress=False).steps == 2  # the checkpoint was kept


def test_the_report_says_its_own_summary_line(tmp_path: Path) -> None:
    report = finetune_run.FinetuneReport(
        base="tiny", method="lora", output=tmp_path / "adapter", run_dir=tmp_path / "run", steps=40, tokens=123456,
        tokens_per_second=987.6, seconds=61.4, fit_seconds=58.0, peak_memory_mb=1536.2, train_loss=1.23456,
        val_loss=None, parameters=1000000, trainable_parameters=2048, precision="float32; no native bf16",
        train_examples=30, val_examples=3, dev_tickets=4, truncated=1, skipped=["a:1: x"],
        augmentation=finetune_run.RaftCounts(with_context=10, oracle_dropped=2, without_context=20, handover_twins=4),
    )  # fmt: skip
    assert report.summary() == (
        "Fine-tuned tiny (lora, 2,048 of 1,000,000 parameters trained): 40 steps, 123,456 tokens at 988 tokens/s "
        "(float32; no native bf16); loss 1.235, validation n/a; 30 + 3 examples (4 tickets held out for development), "
        "1 cut to seq_len, 1 skipped; "
        "peak memory 1,536 MB; 61 s."
    )
    assert report.augmentation.summary() == (
        "Augmentation-aware: 10 with retrieved context (2 of them without the passage holding the answer), "
        "20 without; 4 hand-overs trained both with and without context."
    )
