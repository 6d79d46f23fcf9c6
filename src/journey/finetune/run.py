"""`journey finetune`: prepare → fit_and_save → fit. LoRA or full supervised fine-tuning on the support history.

`prepare` reads the tickets, mixes in the retrieved context (augmentation-aware, RAFT),
encodes with the base model's chat template (loss on assistant tokens), packs, and
wraps the model; `fit_and_save` runs the shared loop `fit()`, saves the adapter (write
then rename) with the settings and data hash it was trained on, writes a `run.json`
summary for users to `.journey/runs/finetune-<timestamp>/`, and — when it wrote the
adapter the finetuned set-ups load — the finetune StageRecord the cost step reads.
train/run.py has the same shape.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import resource
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import torch
from peft import LoraConfig, get_peft_model
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from journey.assistant.prompts import system_prompt
from journey.errors import UserError
from journey.finetune.contexts import gather_contexts
from journey.finetune.devsplit import held_out
from journey.finetune.encode import Encoded, encode
from journey.finetune.output import check_output
from journey.finetune.packing import PackedCollator, pack
from journey.finetune.raft import RaftCounts, mix, pick, user_turn_with, with_action
from journey.io import atomic_write_json, read_jsonl
from journey.models.loading import load_model
from journey.models.messages import Messages
from journey.models.precision import Precision, choose_precision
from journey.records import training_record, write_stage_record
from journey.training.loop import RESUMABLE_CHANGES, LoopConfig, fit, process_state, time_left
from journey.training.output import RETRY_TRAINING, new_run_dir, save_model_folder, write_run_summary
from journey.training.tickets import Ticket, Tickets, read_tickets
from journey.workspace import FinetuneSettings, Workspace, with_overrides

log = logging.getLogger(__name__)

T = TypeVar("T")
PLAN = "finetune_plan.json"  # in the checkpoint folder: what a --resume must match


@dataclass
class FinetuneReport:
    """What `journey finetune` did and cost; also written to the run folder as run.json."""

    base: str
    method: str
    output: Path
    run_dir: Path
    steps: int
    tokens: int  # real (non-padding) tokens trained on, all processes
    tokens_per_second: float
    seconds: float  # wall-clock of the whole command
    fit_seconds: float
    peak_memory_mb: float
    train_loss: float
    val_loss: float | None
    parameters: int
    trainable_parameters: int
    precision: str
    train_examples: int
    val_examples: int
    dev_tickets: int  # held out as the development split (evaluate --dev-split)
    truncated: int  # conversations longer than seq_len, cut
    skipped: list[str] = field(default_factory=list)  # "file:line: reason"
    augmentation: RaftCounts | None = None  # None: trained without context
    handovers: dict[str, int] = field(default_factory=dict)  # hand-over tickets found, by how ("flag", …)
    handover_summary: str = ""  # the line journey finetune prints about them
    planned_steps: int = 0
    budget_limited: bool = False  # stopped before planned_steps to stay within the time budget

    @property
    def flops(self) -> float:
        """Training compute, ≈ 6·N·D."""
        return 6 * self.parameters * self.tokens

    def summary(self) -> str:
        """The one line `journey finetune` prints."""
        val = f"{self.val_loss:.3f}" if self.val_loss is not None else "n/a"
        return (
            f"Fine-tuned {self.base} ({self.method}, {self.trainable_parameters:,} of {self.parameters:,} "
            f"parameters trained): {self.steps} steps, {self.tokens:,} tokens at {self.tokens_per_second:,.0f} "
            f"tokens/s ({self.precision}); loss {self.train_loss:.3f}, validation {val}; "
            f"{self.train_examples} + {self.val_examples} examples ({self.dev_tickets} tickets held out for "
            f"development), {self.truncated} cut to seq_len, "
            f"{len(self.skipped)} skipped; peak memory {self.peak_memory_mb:,.0f} MB; {self.seconds:.0f} s."
        )


@dataclass
class Prepared:
    """Everything `fit()` needs, prepared from the workspace."""

    base: str
    settings: FinetuneSettings
    output: Path
    state_dir: Path
    tickets: Tickets  # those trained on: the development split is left out
    dev: list[Ticket]  # the development split, held out
    train: list[Encoded]
    val: list[Encoded]
    truncated: int
    skipped: list[str]
    augmentation: RaftCounts | None
    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    parameters: int
    seq_len: int
    precision: Precision


def finetune(
    workspace: Workspace,
    *,
    base: str | None = None,
    output: Path | None = None,
    method: str | None = None,
    max_steps: int | None = None,
    resume: bool = False,
    augmentation_aware: bool | None = None,
    progress: bool = True,
    settings: FinetuneSettings | None = None,
    force: bool = False,
    budget_s: float | None = None,
) -> FinetuneReport:
    """Fine-tune `base` (default: model.base) on the workspace's tickets; save to `output` (default: the adapter).

    `settings` (default: journey.toml's [finetune]) is overridden by the other arguments that are given.
    An existing `output` journey did not write is replaced only with `force` (io.check_output_folder).
    With `budget_s`, training stops early rather than run past that many seconds (`fit`).
    """
    started = time.perf_counter()
    output = output or workspace.adapter_dir
    check_output(workspace, output, force=force)
    overrides = {"method": method, "max_steps": max_steps}
    if augmentation_aware is not None:
        overrides["augmentation_aware"] = "on" if augmentation_aware else "off"
    run = prepare(
        workspace,
        with_overrides(settings or workspace.settings.finetune, what="fine-tuning", **overrides),
        base=base or workspace.settings.model.base,
        output=output,
        resume=resume,
        progress=progress,
    )
    return fit_and_save(workspace, run, resume=resume, progress=progress, started=started, budget_s=budget_s)


def prepare(
    workspace: Workspace, settings: FinetuneSettings, *, base: str, output: Path, resume: bool, progress: bool
) -> Prepared:
    """Read, mix, encode and split the tickets; load the base model and wrap it for training."""
    state = process_state()
    state_dir = workspace.checkpoints_dir / f"finetune-{output.name}"
    if resume and not (state_dir / PLAN).is_file():
        raise UserError(f"Nothing to resume: no fine-tuning checkpoint in {state_dir}.")
    tickets, dev = held_out(
        read_tickets(workspace.tickets_path, system_prompt(workspace.settings)), settings.dev_fraction, settings.seed
    )
    if warning := handover_warning(workspace, tickets):
        log.warning(warning)
    # A hand-over is learnt as the action: its marker line opens the answer (assistant/handover.py).
    conversations = [with_action(t.messages, t.handover) for t in tickets.tickets]
    forms = [[messages] for messages in conversations]  # each ticket's training examples
    augmentation = None
    if _augmentation_on(workspace, settings):
        handovers = [i for i, t in enumerate(tickets.tickets) if t.handover is not None]
        with state.main_process_first():
            forms, augmentation = augmentation_aware_forms(
                workspace, conversations, handovers, settings, progress=progress and state.is_main_process
            )
    # Hand-overs are rare and the action is learnt from them alone: each is trained `handover_weight` times.
    weights = [settings.handover_weight if t.handover is not None else 1 for t in tickets.tickets]
    forms = [ticket_forms * weight for ticket_forms, weight in zip(forms, weights, strict=True)]
    precision = choose_precision(settings.bf16, state.device.type, job="fine-tuning")
    # Under LoRA the base is frozen: kept in bfloat16 it is never re-cast by autocast (PEFT keeps the adapter in fp32).
    model, tokenizer = load_model(base, dtype="bfloat16" if precision.bf16 and settings.method == "lora" else "float32")
    seq_len = min(settings.seq_len, getattr(model.config, "max_position_embeddings", None) or settings.seq_len)
    groups, skipped = [], [str(p) for p in tickets.skipped]
    for ticket, ticket_forms in zip(tickets.tickets, forms, strict=True):
        examples = [e for e in (encode(tokenizer, messages, seq_len) for messages in ticket_forms) if e is not None]
        if not examples:
            skipped.append(f"{tickets.path}:{ticket.line}: no assistant token within the first {seq_len} tokens")
        else:
            groups.append(examples)
    if not groups:
        raise UserError(
            f"No conversation in {tickets.path} has an assistant reply within {seq_len} tokens: "
            "raise finetune.seq_len, or shorten the system prompt."
        )
    # Split by ticket: both forms of a ticket fall on the same side, so validation never sees a training ticket.
    train_groups, val_groups = split(groups, settings.val_fraction, settings.seed)
    train, val = [e for g in train_groups for e in g], [e for g in val_groups for e in g]
    encoded = [e for g in groups for e in g]
    parameters = sum(p.numel() for p in model.parameters())
    model = _trainable(model, settings)
    examples = hashlib.sha256(json.dumps([(e.input_ids, e.labels) for e in encoded]).encode()).hexdigest()
    plan = {"base": base, "data_sha256": tickets.sha256, "examples_sha256": examples, **settings.model_dump()}
    with state.main_process_first():
        prepare_state(state_dir, plan, resume=resume, is_main=state.is_main_process)
    return Prepared(
        base=base,
        settings=settings,
        output=output,
        state_dir=state_dir,
        tickets=tickets,
        dev=dev,
        train=train,
        val=val,
        truncated=sum(e.truncated for e in encoded),
        skipped=skipped,
        augmentation=augmentation,
        model=model,
        tokenizer=tokenizer,
        parameters=parameters,
        seq_len=seq_len,
        precision=precision,
    )


def fit_and_save(
    workspace: Workspace, run: Prepared, *, resume: bool, progress: bool, started: float, budget_s: float | None = None
) -> FinetuneReport:
    """Fine-tune with the shared loop, save the result, and write the run summary."""
    settings, state = run.settings, process_state()
    train_rows, val_rows = pack(run.train, run.seq_len), pack(run.val, run.seq_len) if run.val else None
    rows_per_step = max(1, round(settings.batch_tokens / run.seq_len))
    grad_accum = max(1, math.ceil(rows_per_step / state.num_processes))
    rows_per_epoch_step = grad_accum * state.num_processes
    steps = settings.max_steps or max(1, math.ceil(settings.epochs * len(train_rows) / rows_per_epoch_step))
    loop = LoopConfig(
        max_steps=steps,
        learning_rate=settings.learning_rate,
        batch_size=1,  # one packed row a micro-batch: no padding at all
        warmup_steps=round(settings.warmup_fraction * steps),
        grad_accum=grad_accum,
        eval_every=settings.eval_every,
        checkpoint_every=settings.checkpoint_every,
        checkpoint_minutes=settings.checkpoint_minutes,
        bf16=run.precision.bf16,
        seed=settings.seed,
    )
    result = fit(
        run.model,
        train_rows,
        PackedCollator(run.tokenizer.pad_token_id),
        loop,
        run.state_dir,
        val_data=val_rows,
        resume=resume,
        flops_per_token=6 * run.parameters,
        budget_s=time_left(budget_s, started),
        description=f"fine-tune ({settings.method})",
        progress=progress and state.is_main_process,
    )
    if result.interrupted:
        log.warning("Stopped at step %d of %d; the checkpoint is saved. Continue with --resume.", result.steps, steps)
        raise KeyboardInterrupt
    report = FinetuneReport(
        base=run.base,
        method=settings.method,
        output=run.output,
        run_dir=new_run_dir(workspace, "finetune"),
        steps=result.steps,
        tokens=result.tokens * state.num_processes,
        tokens_per_second=result.tokens_per_second * state.num_processes,
        seconds=0.0,
        fit_seconds=result.seconds,
        peak_memory_mb=peak_memory_mb(),
        train_loss=result.final_train_loss,
        val_loss=result.final_val_loss,
        parameters=run.parameters,
        trainable_parameters=sum(p.numel() for p in run.model.parameters() if p.requires_grad),
        precision=f"{'bfloat16 autocast' if run.precision.bf16 else 'float32'}; {run.precision.reason}",
        train_examples=len(run.train),
        val_examples=len(run.val),
        dev_tickets=len(run.dev),
        truncated=run.truncated,
        skipped=run.skipped,
        augmentation=run.augmentation,
        handovers=dict(run.tickets.handovers()),
        handover_summary=run.tickets.handover_summary(),
        planned_steps=steps,
        budget_limited=result.budget_limited,
    )
    if state.is_main_process:
        info = {
            "base": run.base,
            "method": settings.method,
            "data": str(run.tickets.path),
            "data_sha256": run.tickets.sha256,
            "augmentation_aware": run.augmentation is not None,
            "handover": "action",  # hand-overs were learnt as the transfer_to_human marker (assistant/handover.py)
            "steps": result.steps,
            "settings": settings.model_dump(),
            "run": report.run_dir.name,
        }
        tokenizer = None if settings.method == "lora" else run.tokenizer  # an adapter uses its base's
        save_model_folder(run.model, tokenizer, run.output, info, retry=RETRY_TRAINING)
        report.seconds = time.perf_counter() - started
        _write_run(report, run)
        if run.output.resolve() == workspace.adapter_dir.resolve():  # what the finetuned set-ups load
            hardware, used = workspace.settings.cost.hardware, settings.model_dump()
            write_stage_record(workspace, training_record("finetune", report, hardware=hardware, settings=used))
    return report


def peak_memory_mb() -> float:
    """Peak memory of this process: GPU memory allocated when on CUDA, else resident set size."""
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def handover_warning(workspace: Workspace, tickets: Tickets) -> str | None:
    """The warning when the eval set expects hand-overs but no ticket was recognised as one (training goes on)."""
    if tickets.handovers() or not workspace.eval_path.is_file():
        return None
    items = [item[1] for item in read_jsonl(workspace.eval_path) if isinstance(item, tuple)]
    if not (expected := sum(isinstance(item, dict) and item.get("escalate") is True for item in items)):
        return None
    return (
        f"The eval set expects {expected} hand-over(s), but no ticket was recognised as one, so the fine-tuned "
        'model will not learn to hand over: mark them with "handover": true or a transfer_to_human tool call '
        "(docs/design.md). Training anyway."
    )


def augmentation_aware_forms(
    workspace: Workspace,
    conversations: list[Messages],
    handovers: list[int],
    settings: FinetuneSettings,
    *,
    progress: bool,
) -> tuple[list[list[Messages]], RaftCounts]:
    """Each ticket's training examples: a seeded share with the retrieved context (RAFT), and every hand-over
    both with and without it, so that the decision to hand over does not hinge on whether the prompt has data.

    (On the demo, 31 of 61 hand-over tickets had context and the fine-tuned+augmented model still answered
    4 of 9 sensitive questions that the fine-tuned one handed over.)
    """
    chosen = set(pick(len(conversations), settings.augmented_fraction, settings.seed))
    wanted = sorted(chosen | set(handovers))
    contexts = gather_contexts(workspace, [conversations[i] for i in wanted], progress=progress)
    gathered = dict(zip(wanted, contexts, strict=True))
    mixed, counts = mix(
        conversations, {i: gathered[i] for i in chosen}, oracle_drop=settings.oracle_drop_fraction, seed=settings.seed
    )
    forms = [[messages] for messages in mixed]
    for i in handovers:
        if (with_data := user_turn_with(conversations[i], gathered[i])) is not None:
            forms[i] = [conversations[i], with_data]
            counts.handover_twins += 1
    return forms, counts


def _augmentation_on(workspace: Workspace, settings: FinetuneSettings) -> bool:
    """On when asked, or in "auto" mode when the workspace has a knowledge index."""
    if settings.augmentation_aware == "off":
        return False
    if workspace.index_dir.exists():
        return True
    if settings.augmentation_aware == "on":
        raise UserError("Augmentation-aware fine-tuning needs the knowledge index: run `journey index` first.")
    log.warning("No knowledge index: fine-tuning without context (run `journey index` first for augmentation-aware).")
    return False


def split(examples: list[T], val_fraction: float, seed: int) -> tuple[list[T], list[T]]:
    """A seeded train/validation split; refuse when either side would be empty."""
    if val_fraction == 0:
        return list(examples), []
    n_val = max(1, round(len(examples) * val_fraction))
    if len(examples) - n_val < 1:
        raise UserError(
            f"Only {len(examples)} usable conversation(s): too few for a validation split of "
            f"{val_fraction:.0%} ({n_val}) plus at least one to train on. Add tickets, or set "
            "finetune.val_fraction = 0 in journey.toml."
        )
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    val = set(order[:n_val])
    return [e for i, e in enumerate(examples) if i not in val], [e for i, e in enumerate(examples) if i in val]


def _trainable(model: PreTrainedModel, settings: FinetuneSettings) -> PreTrainedModel:
    """The model with LoRA adapters on `target_modules`, or itself for a full fine-tune; in train mode."""
    torch.manual_seed(settings.seed)
    if settings.method == "lora":
        config = LoraConfig(
            r=settings.lora_r,
            lora_alpha=settings.lora_alpha,
            lora_dropout=settings.lora_dropout,
            target_modules=settings.target_modules,
            task_type="CAUSAL_LM",
        )
        try:
            model = get_peft_model(model, config)
        except ValueError as exc:
            raise UserError(f"finetune.target_modules {settings.target_modules} do not fit this model: {exc}") from None
    model.train()
    return model


def prepare_state(state_dir: Path, plan: dict, *, resume: bool, is_main: bool) -> None:
    """Start a fresh checkpoint folder, or check that a resumed run trains the same thing on the same examples.

    The examples' hash covers everything that shapes them: tickets, retrieved contexts, system
    prompt, chat template and seq_len.
    """
    plan_file = state_dir / PLAN
    if resume:
        before = json.loads(plan_file.read_text(encoding="utf-8"))
        changed = [key for key in plan if key not in RESUMABLE_CHANGES and before.get(key) != plan[key]]
        if changed:
            raise UserError(
                f"Cannot resume: {', '.join(changed)} changed since the checkpoint. "
                "Set them back, or start afresh without --resume."
            )
    elif is_main:
        shutil.rmtree(state_dir, ignore_errors=True)
        atomic_write_json(plan_file, plan)


def _write_run(report: FinetuneReport, run: Prepared) -> None:
    """run.json (the run's summary for users) beside the loss curve."""
    summary = {
        **asdict(report),
        "output": str(report.output),
        "run_dir": str(report.run_dir),
        "flops": report.flops,
        "flops_per_token": 6 * run.parameters,
        "seq_len": run.seq_len,
        "data_sha256": run.tickets.sha256,
        "settings": run.settings.model_dump(),
    }
    write_run_summary(
        report.run_dir, "finetune", summary, copies=[run.state_dir / "loss.csv", run.state_dir / "loss.png"]
    )
