"""Training from scratch: tokenizer, presets, corpus errors, a quick run the assistant loads, resume."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM

from conftest import TINY_TEXT
from journey.assistant import load_assistant
from journey.errors import UserError
from journey.finetune import finetune
from journey.records import stage_records
from journey.train import run as train_run
from journey.train import train
from journey.train.corpus import load_corpus
from journey.train.flops import PeakFlops, flops_per_token, peak_flops
from journey.train.presets import PRESETS, llama_config, model_dims, parameter_count
from journey.train.tokenizer import render_chat, train_tokenizer
from journey.workspace import TrainSettings, Workspace

TRAIN_TOML = """
[project]
name = "Testshop"
[assistant]
system_prompt = "You help {company} customers."
[model]
max_new_tokens = 6
[train]
vocab_size = 400
seq_len = 64
batch_size = 4
hidden_size = 32
num_layers = 2
num_heads = 2
intermediate_size = 64
max_steps = 4
warmup_steps = 1
eval_every = 2
checkpoint_every = 2
include_knowledge = false
instruction_steps = 0
"""
TICKETS = [
    {"messages": [{"role": "user", "content": "Where is order 12?"}, {"role": "assistant", "content": "It ships."}]},
    {"prompt": "Do you sell tents?", "completion": "Yes, three kinds."},
    {"neither": "usable"},
]


def make_workspace(root: Path, corpus: dict[str, bytes], toml: str = TRAIN_TOML) -> Workspace:
    (root / "data" / "corpus").mkdir(parents=True)
    (root / "journey.toml").write_text(toml, encoding="utf-8")
    (root / "data" / "tickets.jsonl").write_text("\n".join(json.dumps(t) for t in TICKETS) + "\n", encoding="utf-8")
    for name, data in corpus.items():
        (root / "data" / "corpus" / name).write_bytes(data)
    return Workspace.load(root)


def shop_text(lines: int = 400) -> bytes:
    sentences = [f"Order {n} ships in {n % 7 + 1} days; it weighs {n * 13 % 900} g." for n in range(lines)]
    return "\n".join(sentences + TINY_TEXT).encode()


@pytest.fixture(autouse=True)
def fixed_peak(monkeypatch: pytest.MonkeyPatch) -> None:
    """Training tests do not measure (or cache) this machine's peak; test_peak_flops_* does."""
    monkeypatch.setattr(train_run, "peak_flops", lambda cache, device: PeakFlops("test", 1e11, 2e11))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, train_run.TrainReport]:
    root = tmp_path_factory.mktemp("trained")
    workspace = make_workspace(
        root, {"shop.txt": shop_text(), "legacy.txt": "Caf\xe9 cr\xe8me, 4 \xa4.".encode("latin-1")}
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(train_run, "peak_flops", lambda cache, device: PeakFlops("test", 1e11, 2e11))
        report = train(workspace, instruction_steps=2, progress=False, instruction_stage=finetune)
    return workspace, report


def test_tokenizer_round_trips_text_and_renders_the_chat_template() -> None:
    tokenizer = train_tokenizer([*TINY_TEXT, "<|im_start|>user\nHi<|im_end|>\n"], vocab_size=400)
    text = "Returns within 41 days — café crème, €4.85!\n  Tabs\tand  spaces."
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.eos_token == "<|im_end|>" and len(tokenizer) == 400
    assert not any("im_start" in piece and piece != "<|im_start|>" for piece in tokenizer.get_vocab())
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert prompt == render_chat(messages) + "<|im_start|>assistant\n"
    ids = tokenizer.encode(prompt)
    assert ids[0] == tokenizer.convert_tokens_to_ids("<|im_start|>")
    assert ids.count(tokenizer.eos_token_id) == 2


@pytest.mark.parametrize(("preset", "low", "high"), [("tiny", 4e6, 6e6), ("small", 25e6, 35e6), ("base", 100e6, 140e6)])
def test_presets_have_their_advertised_sizes(preset: str, low: float, high: float) -> None:
    tokenizer = train_tokenizer(TINY_TEXT, vocab_size=400)
    config = llama_config(model_dims(TrainSettings(preset=preset)), tokenizer)
    assert low <= parameter_count(config) <= high
    assert config.max_position_embeddings == TrainSettings().seq_len


def test_explicit_dimensions_override_the_preset() -> None:
    dims = model_dims(TrainSettings(preset="small", hidden_size=96, num_heads=3))
    assert (dims.hidden_size, dims.num_heads, dims.num_layers) == (96, 3, PRESETS["small"].num_layers)
    with pytest.raises(UserError, match=r"multiple of train\.num_heads"):
        model_dims(TrainSettings(hidden_size=100, num_heads=3))


def test_quick_run_and_instruction_stage_write_a_model_the_assistant_answers_with(
    trained: tuple[Workspace, train_run.TrainReport],
) -> None:
    workspace, report = trained
    assert report.steps == 4 and report.tokens == 4 * 4 * 64 and report.instruction_steps == 2
    stage = json.loads((report.output / "journey_training.json").read_text())
    assert stage["method"] == "full" and stage["base"].endswith("checkpoints/train/pretrained")
    assert report.val_perplexity is not None and report.val_perplexity > 1
    assert report.not_utf8_files == ["data/corpus/legacy.txt"]
    summary = json.loads((report.run_dir / "run.json").read_text())
    assert summary["kind"] == "train"
    peak = summary["measured_peak_flops"][report.precision.split(" ")[0]]  # the peak of the precision trained in
    assert report.mfu == pytest.approx(report.tokens_per_second * summary["flops_per_token"] / peak)
    assert summary["parameters"] == report.parameters and summary["measured_peak_flops"]["float32"] == 1e11
    assert summary["seconds"] > 0 and summary["tokens"] == report.tokens
    records = stage_records(workspace)  # the instruction stage's fine-tune is not the workspace's finetune stage
    assert set(records) == {"train"} and records["train"].run == report.run_dir.name
    assert (records["train"].tokens, records["train"].flops) == (report.tokens, report.flops)
    assert records["train"].settings["instruction_steps"] == 2
    model = AutoModelForCausalLM.from_pretrained(report.output)
    assert model.config.hidden_size == 32 and model.config.eos_token_id == 2
    reply = load_assistant(workspace, "scratch").answer("Where is order 12?")
    assert reply.setup == "scratch" and reply.prompt_tokens > 0 and 0 < reply.completion_tokens <= 6
    assert "## step 4" in (report.run_dir / "samples.md").read_text()
    assert (report.run_dir / "loss.png").is_file()


def test_resume_continues_and_refuses_changed_dimensions(
    trained: tuple[Workspace, train_run.TrainReport], tmp_path: Path
) -> None:
    root = tmp_path / "copy"
    shutil.copytree(trained[0].root, root)
    report = train(Workspace.load(root), max_steps=6, resume=True, progress=False)
    assert report.steps == 6 and report.tokens == 2 * 4 * 64
    toml = root / "journey.toml"
    toml.write_text(TRAIN_TOML.replace("hidden_size = 32", "hidden_size = 48"), encoding="utf-8")
    with pytest.raises(UserError, match="hidden_size: 32 -> 48"):
        train(Workspace.load(root), resume=True, progress=False)
    shutil.rmtree(root / ".journey")
    with pytest.raises(UserError, match="Nothing to resume"):
        train(Workspace.load(root), resume=True, progress=False)


def test_non_utf8_files_are_decoded_with_replacement_and_counted(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, {"a.txt": b"plain text", "b.txt": b"price: 4\xa4 \xff"})
    corpus = load_corpus(workspace)
    assert corpus.files == 2 and corpus.not_utf8 == ["data/corpus/b.txt"]
    assert "price: 4\ufffd \ufffd" in corpus.documents
    assert corpus.tickets == 2 and "<|im_start|>system\nYou help Testshop customers.<|im_end|>" in corpus.documents[2]
    assert any("tickets.jsonl:3" in skipped for skipped in corpus.skipped)


@pytest.mark.parametrize(
    ("corpus", "toml", "message"),
    [
        ({}, TRAIN_TOML, "The training corpus is empty: data/corpus/ has 0 .txt file(s)"),
        ({"blank.txt": b"  \n"}, TRAIN_TOML, "has 1 .txt file(s) and no text"),
        ({"small.txt": b"Hello world. " * 20}, TRAIN_TOML, "too small for a vocabulary of 400 tokens"),
        (
            {"shop.txt": shop_text()},
            TRAIN_TOML.replace("batch_size = 4", "batch_size = 400"),
            "8,860 tokens, and one training batch plus validation needs 26,048 (400 + 7 rows of 64)",
        ),
    ],
)
def test_unusable_corpora_are_clear_errors(tmp_path: Path, corpus: dict[str, bytes], toml: str, message: str) -> None:
    workspace = make_workspace(tmp_path, corpus, toml)
    with pytest.raises(UserError) as error:
        train(workspace, progress=False)
    assert message in str(error.value)


def test_cli_reports_a_missing_corpus_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from journey.cli import main

    (tmp_path / "journey.toml").write_text(TRAIN_TOML, encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["journey", "train", "-w", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_:
        main()
    err = " ".join(capsys.readouterr().err.split())
    assert exit_.value.code == 2 and "data/corpus/ does not exist" in err and "Traceback" not in err


def test_journey_train_gives_train_the_fine_tuning_run_as_its_instruction_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """train does not import finetune (one layer): the verb passes journey.finetune.finetune in."""
    from journey.cli import main

    calls: list[dict] = []

    def pretrain_then_stop(workspace: Workspace, **options: object) -> None:
        options["instruction_stage"](workspace, base="pretrained", method="full")
        raise KeyboardInterrupt

    monkeypatch.setattr("journey.train.train", pretrain_then_stop)
    monkeypatch.setattr("journey.finetune.finetune", lambda workspace, **options: calls.append(options))
    (tmp_path / "journey.toml").write_text(TRAIN_TOML, encoding="utf-8")
    (tmp_path / "data" / "corpus").mkdir(parents=True)  # the verb checks it before torch loads
    monkeypatch.setattr(sys, "argv", ["journey", "train", "-w", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 130 and calls == [{"base": "pretrained", "method": "full"}]


def test_peak_flops_is_measured_once_and_cached(tmp_path: Path) -> None:
    first = peak_flops(tmp_path, torch.device("cpu"))
    assert first.float32 > 1e8 and first.bfloat16 > 1e8
    assert peak_flops(tmp_path, torch.device("cpu")) == first
    assert first.device in json.loads((tmp_path / "peak_flops.json").read_text())


def test_flops_per_token_is_six_n_plus_attention() -> None:
    dims = PRESETS["tiny"]
    assert flops_per_token(dims, 1000) == 6000 + 12 * dims.num_layers * dims.hidden_size * dims.context_length


def test_the_report_says_its_own_summary_line(tmp_path: Path) -> None:
    report = train_run.TrainReport(
        preset="tiny", parameters=5000000, steps=300, tokens=460800, tokens_per_second=1234.5, flops=1e15,
        mfu=0.0123, peak_flops=105e9, precision="float32 (no native bf16)", val_perplexity=12.345, seconds=480.2,
        corpus_tokens=800000, corpus_files=3, not_utf8_files=[], instruction_steps=10, planned_steps=300,
        budget_limited=False, output=tmp_path / "scratch", run_dir=tmp_path / "run",
    )  # fmt: skip
    assert report.summary() == (
        "Trained tiny (5,000,000 parameters): 300 steps, 460,800 tokens, 1,234 tokens/s, MFU 1.2% of a measured "
        "105 GFLOP/s (float32 (no native bf16)), validation perplexity 12.35, 480 s."
    )
