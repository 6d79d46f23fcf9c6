"""`journey train`: prepare → fit_and_save → fit. A tokenizer and a Llama model trained from scratch on the workspace.

`prepare` reads the corpus, trains (or, on --resume, reloads) the tokenizer, packs the
token stream and builds the model; `fit_and_save` runs the shared loop `fit()` with validation
perplexity and sample generations; then the model is registered at
`.journey/models/scratch/` (after an optional instruction stage on the tickets), a
`run.json` summary for users is written to `.journey/runs/train-<timestamp>/` and the train
StageRecord the cost step reads to `.journey/runs/stages/`. finetune/run.py has the same shape.

The instruction stage is a full fine-tune, run by the `InstructionStage` the caller passes in
(`journey train` passes `journey.finetune.finetune`): train and finetune are one layer and
neither imports the other (docs/design.md, "Code layout").
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import torch
from accelerate import PartialState
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from journey.errors import UserError
from journey.io import atomic_write_json
from journey.models.loading import cache_root
from journey.models.precision import Precision, choose_precision
from journey.records import training_record, write_stage_record
from journey.train.corpus import Corpus, load_corpus
from journey.train.data import Packed, collate, pack
from journey.train.flops import PeakFlops, flops_per_token, peak_flops
from journey.train.presets import ModelDims, changed_dims, llama_config, model_dims, parameter_count
from journey.train.samples import SampleWriter
from journey.train.tokenizer import train_tokenizer
from journey.training.loop import LoopConfig, fit, process_state, time_left
from journey.training.output import RETRY_TRAINING, new_run_dir, save_model_folder, write_run_summary
from journey.workspace import FinetuneSettings, TrainSettings, Workspace, with_overrides

log = logging.getLogger(__name__)

STATE_NAME = "train"  # under .journey/checkpoints/: tokenizer, dimensions, loop checkpoint, curve, samples
TOKENIZER_DIR = "tokenizer"
DIMS_FILE = "model_dims.json"
PRETRAINED_DIR = "pretrained"


class InstructionStage(Protocol):
    """Fine-tunes `base` on the workspace's tickets into `output`: `journey.finetune.finetune` is one."""

    def __call__(
        self,
        workspace: Workspace,
        *,
        base: str,
        output: Path,
        method: str,
        max_steps: int,
        augmentation_aware: bool,
        progress: bool,
        settings: FinetuneSettings,
    ) -> object: ...


@dataclass
class TrainReport:
    """What `journey train` did and cost; also written to the run folder as run.json."""

    preset: str
    parameters: int
    steps: int
    tokens: int
    tokens_per_second: float
    flops: float  # tokens × FLOPs per token (6·N plus attention)
    mfu: float
    peak_flops: float  # FLOP/s measured on this machine for the precision trained in
    precision: str
    val_perplexity: float | None
    seconds: float  # wall-clock of the whole command
    corpus_tokens: int
    corpus_files: int
    not_utf8_files: list[str]
    instruction_steps: int  # 0 when no instruction stage ran
    planned_steps: int
    budget_limited: bool  # pretraining stopped before planned_steps to stay within the time budget
    output: Path
    run_dir: Path

    def summary(self) -> str:
        """The one line `journey train` prints."""
        perplexity = f"{self.val_perplexity:.2f}" if self.val_perplexity is not None else "n/a"
        return (
            f"Trained {self.preset} ({self.parameters:,} parameters): {self.steps} steps, "
            f"{self.tokens:,} tokens, {self.tokens_per_second:,.0f} tokens/s, MFU {self.mfu:.1%} of a measured "
            f"{self.peak_flops / 1e9:,.0f} GFLOP/s ({self.precision}), validation perplexity {perplexity}, "
            f"{self.seconds:.0f} s."
        )


@dataclass
class Prepared:
    """Everything `fit()` needs, prepared from the workspace."""

    settings: TrainSettings
    state_dir: Path
    corpus: Corpus
    tokenizer: PreTrainedTokenizerFast
    dims: ModelDims
    data: Packed
    model: LlamaForCausalLM
    parameters: int
    peak: PeakFlops
    precision: Precision


def train(
    workspace: Workspace,
    *,
    preset: str | None = None,
    max_steps: int | None = None,
    resume: bool = False,
    instruction_steps: int | None = None,
    progress: bool = True,
    budget_s: float | None = None,
    instruction_stage: InstructionStage | None = None,
) -> TrainReport:
    """Train the scratch model of `workspace` and register it for the scratch set-up.

    With `budget_s`, pretraining stops early rather than run past that many seconds (`fit`).
    `instruction_stage` runs the instruction stage (`journey.finetune.finetune`); without it, it is skipped.
    """
    started = time.perf_counter()
    overrides = {"preset": preset, "max_steps": max_steps, "instruction_steps": instruction_steps}
    run = prepare(workspace, with_overrides(workspace.settings.train, what="training", **overrides), resume=resume)
    return fit_and_save(
        workspace,
        run,
        resume=resume,
        progress=progress,
        started=started,
        budget_s=budget_s,
        instruction_stage=instruction_stage,
    )


def prepare(workspace: Workspace, settings: TrainSettings, *, resume: bool) -> Prepared:
    """Read the corpus, get the tokenizer, pack the data and build the model (randomly initialised)."""
    state = process_state()
    state_dir = workspace.checkpoints_dir / STATE_NAME
    corpus = load_corpus(workspace)
    dims = model_dims(settings)
    with state.main_process_first():
        if resume:
            _check_resumable(state_dir, dims)
        elif state.is_main_process:
            _start_fresh(state_dir, corpus, dims)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(state_dir / TOKENIZER_DIR)
    data = pack(
        corpus.documents,
        tokenizer,
        seq_len=settings.seq_len,
        batch_size=settings.batch_size,
        val_fraction=settings.val_fraction,
        seed=settings.seed,
    )
    config = llama_config(dims, tokenizer)
    torch.manual_seed(settings.seed)
    model = LlamaForCausalLM(config)
    return Prepared(
        settings=settings,
        state_dir=state_dir,
        corpus=corpus,
        tokenizer=tokenizer,
        dims=dims,
        data=data,
        model=model,
        parameters=parameter_count(config),
        peak=peak_flops(cache_root(), state.device),
        precision=choose_precision(settings.precision, state.device.type, job="training"),
    )


def fit_and_save(
    workspace: Workspace,
    run: Prepared,
    *,
    resume: bool,
    progress: bool,
    started: float,
    budget_s: float | None = None,
    instruction_stage: InstructionStage | None = None,
) -> TrainReport:
    """Pretrain with the shared loop, register the model, and write the run summary."""
    settings, state = run.settings, process_state()
    per_token = flops_per_token(run.dims, run.parameters)
    peak = run.peak.for_precision(run.precision.bf16)
    loop = LoopConfig(
        max_steps=settings.max_steps,
        learning_rate=settings.learning_rate,
        batch_size=settings.batch_size,
        warmup_steps=settings.warmup_steps,
        grad_accum=settings.grad_accum,
        weight_decay=settings.weight_decay,
        eval_every=settings.eval_every,
        checkpoint_every=settings.checkpoint_every,
        checkpoint_minutes=settings.checkpoint_minutes,
        bf16=run.precision.bf16,
        seed=settings.seed,
    )
    samples = SampleWriter(run.tokenizer, workspace.settings, run.corpus.documents[0], run.state_dir, show=progress)
    result = fit(
        run.model,
        run.data.train,
        collate,
        loop,
        run.state_dir,
        val_data=run.data.val,
        resume=resume,
        flops_per_token=per_token,
        peak_flops=peak,
        on_eval=samples if state.is_main_process else None,
        budget_s=time_left(budget_s, started),
        description=f"train {settings.preset}",
        progress=progress and state.is_main_process,
    )
    if result.interrupted:
        log.warning(
            "Stopped at step %d of %d; the checkpoint is saved. Continue with `journey train --resume`.",
            result.steps,
            settings.max_steps,
        )
        raise KeyboardInterrupt
    tokens_per_second = result.tokens_per_second * state.num_processes
    report = TrainReport(
        preset=settings.preset,
        parameters=run.parameters,
        steps=result.steps,
        tokens=result.tokens * state.num_processes,
        tokens_per_second=tokens_per_second,
        flops=result.tokens * state.num_processes * per_token,
        mfu=tokens_per_second * per_token / (peak * state.num_processes),
        peak_flops=peak,
        precision=str(run.precision),
        val_perplexity=math.exp(result.final_val_loss) if result.final_val_loss is not None else None,
        seconds=0.0,
        corpus_tokens=run.data.tokens,
        corpus_files=run.corpus.files,
        not_utf8_files=run.corpus.not_utf8,
        instruction_steps=0,
        planned_steps=settings.max_steps,
        budget_limited=result.budget_limited,
        output=workspace.scratch_model_dir,
        run_dir=new_run_dir(workspace, "train"),
    )
    report.instruction_steps = _register(workspace, run, report, state, instruction_stage, progress=progress)
    if state.is_main_process:
        report.seconds = time.perf_counter() - started
        _write_run(report, run, per_token)
        hardware, used = workspace.settings.cost.hardware, settings.model_dump()
        write_stage_record(workspace, training_record("train", report, hardware=hardware, settings=used))
    return report


def _start_fresh(state_dir: Path, corpus: Corpus, dims: ModelDims) -> None:
    """Clear an earlier run's state, train the tokenizer and record the model's dimensions."""
    shutil.rmtree(state_dir, ignore_errors=True)
    tokenizer = train_tokenizer(corpus.documents, vocab_size=dims.vocab_size)
    if len(tokenizer) < dims.vocab_size:
        raise UserError(
            f"The corpus is too small for a vocabulary of {dims.vocab_size:,} tokens: its "
            f"{corpus.characters:,} characters only give {len(tokenizer):,}. "
            f"Add text to data/corpus/, or set train.vocab_size to {len(tokenizer):,} or less."
        )
    tokenizer.save_pretrained(state_dir / TOKENIZER_DIR)
    atomic_write_json(state_dir / DIMS_FILE, dims.describe())


def _check_resumable(state_dir: Path, dims: ModelDims) -> None:
    """Refuse to resume into a model of other dimensions, naming each one that differs."""
    dims_file = state_dir / DIMS_FILE
    if not dims_file.is_file() or not (state_dir / TOKENIZER_DIR).is_dir():
        raise UserError(f"Nothing to resume: no training checkpoint in {state_dir}. Run `journey train` first.")
    changed = changed_dims(json.loads(dims_file.read_text(encoding="utf-8")), dims)
    if changed:
        raise UserError(
            f"Cannot resume: the model's dimensions differ from the checkpoint's ({', '.join(changed)}). "
            "Set them back, or train afresh without --resume."
        )


def _register(
    workspace: Workspace,
    run: Prepared,
    report: TrainReport,
    state: PartialState,
    instruction_stage: InstructionStage | None,
    *,
    progress: bool,
) -> int:
    """Write the model the scratch set-up loads; returns the instruction steps run (0 if none).

    With an instruction stage, the pretrained model goes to the checkpoint folder and every
    process joins the fine-tuning run that writes the final one.
    """
    steps = run.settings.instruction_steps
    stage = instruction_stage if steps else None
    if steps and instruction_stage is None:
        log.warning("No instruction stage was given to train(): the instruction stage is skipped.")
    elif steps and not workspace.tickets_path.is_file():
        log.warning("No %s: the instruction stage is skipped.", workspace.tickets_path.name)
        stage = None
    pretrained = report.output if stage is None else run.state_dir / PRETRAINED_DIR
    if state.is_main_process:
        run.model.generation_config.eos_token_id = run.tokenizer.eos_token_id
        run.model.generation_config.pad_token_id = run.tokenizer.pad_token_id
        info = {**asdict(run.dims), "preset": run.settings.preset, "run": report.run_dir.name}
        save_model_folder(run.model, run.tokenizer, pretrained, info, retry=RETRY_TRAINING)
    state.wait_for_everyone()
    if stage is None:
        return 0
    stage(
        workspace,
        base=str(pretrained),
        output=report.output,
        method="full",
        max_steps=steps,
        augmentation_aware=False,
        progress=progress,
        settings=workspace.settings.finetune.model_copy(update={"bf16": run.precision.bf16}),
    )
    return steps


def _write_run(report: TrainReport, run: Prepared, per_token: float) -> None:
    """run.json (the run's summary for users) beside the loss curve and the samples."""
    summary = {
        **asdict(report),
        "output": str(report.output),
        "run_dir": str(report.run_dir),
        "flops_per_token": per_token,
        "measured_peak_flops": asdict(run.peak),
        "dims": asdict(run.dims),
        "settings": run.settings.model_dump(),
    }
    copies = [run.state_dir / name for name in ("loss.csv", "loss.png", SampleWriter.FILE)]
    write_run_summary(report.run_dir, "train", summary, copies=copies)
