"""The one training loop behind `journey train` and `journey finetune`.

setup → fit: AdamW, linear warm-up + cosine decay, gradient accumulation and
clipping, bf16 autocast where asked, periodic validation, a progress bar with
loss / tokens/s / MFU / ETA, a loss curve (CSV + PNG), checkpoints that resume
with the same optimizer, scheduler, RNG and data order, and a checkpoint on Ctrl-C.
It runs through `accelerate`, so the same code runs on one CPU or under
`accelerate launch` on many GPUs (DDP/FSDP/DeepSpeed configs).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import shutil
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import DistributedType, parse_flag_from_env
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from torch.utils.data import DataLoader, Dataset
from transformers import get_cosine_schedule_with_warmup

from journey.errors import UserError
from journey.io import atomic_write_json, replace_directory

log = logging.getLogger(__name__)
Batch = dict[str, torch.Tensor]
CHECKPOINT = "checkpoint"
STATE = "loop_state.json"


@dataclass(frozen=True)
class LoopConfig:
    """How to train; saved with every checkpoint so a resume can check it is the same run."""

    max_steps: int
    learning_rate: float
    batch_size: int
    warmup_steps: int = 0
    grad_accum: int = 1
    max_grad_norm: float = 1.0
    weight_decay: float = 0.0
    eval_every: int = 50
    checkpoint_every: int = 100
    checkpoint_minutes: float = 5.0  # also checkpoint when this much time passed since the last one
    bf16: bool = False
    seed: int = 0


# What may differ between a checkpoint and the run that resumes it: how far and how often, not what.
RESUMABLE_CHANGES = ("max_steps", "checkpoint_every", "checkpoint_minutes")


@dataclass
class FitResult:
    """What a finished (or interrupted) fit did."""

    steps: int
    tokens: int
    seconds: float
    final_train_loss: float
    final_val_loss: float | None
    interrupted: bool = False
    budget_limited: bool = False  # stopped early: another step would have overrun `budget_s`

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def fit(
    model: torch.nn.Module,
    train_data: Dataset,
    collate: Callable[[list], Batch],
    config: LoopConfig,
    run_dir: Path,
    *,
    val_data: Dataset | None = None,
    resume: bool = False,
    flops_per_token: float | None = None,
    peak_flops: float | None = None,
    on_eval: Callable[[int, torch.nn.Module], None] | None = None,
    budget_s: float | None = None,
    description: str = "training",
    progress: bool = True,
) -> FitResult:
    """Train `model` on `train_data` for `config.max_steps` optimizer steps; write state under `run_dir`.

    With `budget_s`, stop after the step at which one more step (at the rate measured so far)
    would pass that many seconds; the result says so (`budget_limited`).
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    # bf16 autocast is applied here, not via Accelerator(mixed_precision=...): accelerate keeps that
    # setting process-wide and refuses a second fit in the same process with another precision.
    accelerator = Accelerator(gradient_accumulation_steps=config.grad_accum)
    if accelerator.distributed_type in (DistributedType.NO, DistributedType.MULTI_CPU, DistributedType.MULTI_GPU):
        accelerator.register_save_state_pre_hook(_checkpoint_trainable_weights_only)  # FSDP/DeepSpeed save their own
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, config.warmup_steps, config.max_steps)
    model, optimizer, scheduler = accelerator.prepare(model, optimizer, scheduler)

    state = {"step": 0, "epoch": 0, "batches_in_epoch": 0, "tokens": 0}
    checkpoint = run_dir / CHECKPOINT
    if resume:
        # A model with frozen weights (LoRA) is checkpointed without them: they come from the base model.
        frozen = any(not p.requires_grad for p in model.parameters())
        state = _load_checkpoint(accelerator, checkpoint, config, strict=not frozen)

    curve = LossCurve(run_dir / "loss.csv", after_step=state["step"])
    resumed_at = state["step"]
    start, tokens_at_start = time.perf_counter(), state["tokens"]
    train_loss, val_loss, rate = math.nan, None, 0.0
    step_losses: list[torch.Tensor] = []  # the micro-batches of the step being accumulated
    interrupted = budget_limited = False
    saved_at = start
    bar = _progress(description, enabled=progress)
    task = bar.add_task(description, total=config.max_steps, completed=state["step"], info="")
    model.train()
    try:
        with bar:
            while state["step"] < config.max_steps and not budget_limited:
                loader = _epoch_loader(accelerator, train_data, collate, config, state)
                for batch in loader:
                    with accelerator.accumulate(model):
                        with _autocast(accelerator, config.bf16):
                            loss = model(**batch, use_cache=False).loss
                        accelerator.backward(loss)
                        if accelerator.sync_gradients:
                            accelerator.clip_grad_norm_(trainable, config.max_grad_norm)
                        optimizer.step()
                        scheduler.step()
                        optimizer.zero_grad(set_to_none=True)
                    state["batches_in_epoch"] += 1
                    step_losses.append(loss.detach())
                    state["tokens"] += real_tokens(batch)
                    if not accelerator.sync_gradients:
                        continue
                    state["step"] += 1
                    train_loss = torch.stack(step_losses).mean().item()
                    step_losses.clear()
                    elapsed = time.perf_counter() - start
                    rate = (state["tokens"] - tokens_at_start) / elapsed
                    step = state["step"]
                    validated = val_data is not None and (step % config.eval_every == 0 or step == config.max_steps)
                    if validated:
                        val_loss = evaluate_loss(
                            model, val_data, collate, config.batch_size, accelerator, bf16=config.bf16
                        )
                        if on_eval is not None:
                            on_eval(step, accelerator.unwrap_model(model))
                    curve.add(step, train_loss, val_loss if validated else None, scheduler.get_last_lr()[0], rate)
                    bar.update(
                        task,
                        completed=step,
                        info=_info(train_loss, val_loss, rate, flops_per_token, peak_flops),
                    )
                    minutes_since_save = (time.perf_counter() - saved_at) / 60
                    if _any_process(
                        accelerator,
                        step % config.checkpoint_every == 0 or minutes_since_save >= config.checkpoint_minutes,
                    ):
                        _save_checkpoint(accelerator, checkpoint, config, state)
                        saved_at = time.perf_counter()
                    seconds_per_step = elapsed / (step - resumed_at)
                    if budget_s is not None:
                        if step - resumed_at == min(2, config.max_steps - resumed_at):
                            _warn_if_over_budget(
                                description, seconds_per_step, config.max_steps - step, budget_s - elapsed
                            )
                        if _any_process(accelerator, elapsed + seconds_per_step > budget_s):
                            budget_limited = step < config.max_steps
                    if step >= config.max_steps or budget_limited:
                        break
                else:
                    state["epoch"] += 1
                    state["batches_in_epoch"] = 0
    except KeyboardInterrupt:
        interrupted = True
        if curve.last_step < state["step"]:  # stopped after the step's update, before its row
            curve.add(state["step"], train_loss, None, scheduler.get_last_lr()[0], rate)
        _save_checkpoint(accelerator, checkpoint, config, state)
    curve.plot(run_dir / "loss.png")
    if not interrupted:
        _save_checkpoint(accelerator, checkpoint, config, state)
    model = accelerator.unwrap_model(model)
    model.eval()
    return FitResult(
        steps=state["step"],
        tokens=state["tokens"] - tokens_at_start,
        seconds=time.perf_counter() - start,
        final_train_loss=train_loss,
        final_val_loss=val_loss,
        interrupted=interrupted,
        budget_limited=budget_limited,
    )


def _warn_if_over_budget(description: str, seconds_per_step: float, steps_left: int, seconds_left: float) -> None:
    """Say early, from the steps measured so far, when the planned steps will not fit the time budget."""
    if steps_left * seconds_per_step > seconds_left:
        log.warning(
            "%s: %.1f s a step on this machine, so the %d remaining steps would take %.0f min, over the %.0f min "
            "left of its time budget: it stops after about %d more steps (saved as usual, reported as budget-limited).",
            description.capitalize(),
            seconds_per_step,
            steps_left,
            steps_left * seconds_per_step / 60,
            seconds_left / 60,
            max(0, int(seconds_left / seconds_per_step)),
        )


def _any_process(accelerator: Accelerator, flag: bool) -> bool:
    """True on every process when `flag` is true on one: decisions that save or stop must agree (wall-clock
    times differ slightly between processes, and a save that only some join never ends)."""
    if accelerator.num_processes == 1:
        return flag
    return bool(accelerator.reduce(torch.tensor(float(flag), device=accelerator.device), reduction="max").item())


def time_left(budget_s: float | None, started: float) -> float | None:
    """What is left of a command's time budget (`budget_s` seconds from `started`) for its fit; None: no budget."""
    return None if budget_s is None else budget_s - (time.perf_counter() - started)


def process_state() -> PartialState:
    """This process's place in the run — the same state `fit()`'s Accelerator joins.

    CPU processes started by torchrun are one group only when ACCELERATE_USE_CPU is set,
    which `Accelerator` honours but a bare `PartialState()` does not.
    """
    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU"))


def real_tokens(batch: Batch) -> int:
    """Tokens that are not padding: the attention mask's ones, or every token of a packed batch.

    A packed batch with position ids is right-padded with position 0, which no sequence ends on:
    a row's real tokens run up to its last non-zero position.
    """
    if "attention_mask" in batch:
        return int(batch["attention_mask"].sum())
    if "position_ids" in batch:
        positions = batch["position_ids"].flip(-1) != 0
        return int((positions.shape[-1] - positions.int().argmax(-1)).mul(positions.any(-1)).sum())
    return int(batch["input_ids"].numel())


@torch.no_grad()
def evaluate_loss(
    model: torch.nn.Module,
    data: Dataset,
    collate: Callable[[list], Batch],
    batch_size: int,
    accelerator: Accelerator,
    *,
    bf16: bool = False,
) -> float:
    """Mean loss over `data` (weighted by batch) across all processes, in eval mode; leaves the model in train mode."""
    model.eval()
    loader = accelerator.prepare(DataLoader(data, batch_size=batch_size, collate_fn=collate))
    total, count = 0.0, 0
    for batch in loader:
        with _autocast(accelerator, bf16):
            total += model(**batch, use_cache=False).loss.item()
        count += 1
    model.train()
    total, count = accelerator.reduce(torch.tensor([total, count], device=accelerator.device), "sum").tolist()
    return total / max(count, 1)


def _autocast(accelerator: Accelerator, bf16: bool) -> torch.autocast:
    return torch.autocast(accelerator.device.type, dtype=torch.bfloat16, enabled=bf16)


def _epoch_loader(
    accelerator: Accelerator, data: Dataset, collate: Callable[[list], Batch], config: LoopConfig, state: dict
) -> Iterable[Batch]:
    """This epoch's batches in a seeded order, skipping those a resumed run already trained on."""
    generator = torch.Generator().manual_seed(config.seed * 1000 + state["epoch"])
    order = torch.randperm(len(data), generator=generator).tolist()
    loader = DataLoader(data, batch_size=config.batch_size, sampler=order, collate_fn=collate)
    if len(loader) == 0:
        raise UserError("Not enough training data for one batch.")
    loader = accelerator.prepare(loader)
    if state["batches_in_epoch"]:
        loader = accelerator.skip_first_batches(loader, state["batches_in_epoch"])
    return loader


def _save_checkpoint(accelerator: Accelerator, checkpoint: Path, config: LoopConfig, state: dict) -> None:
    """Save model, optimizer, scheduler and RNG states beside the last checkpoint, then swap them in.

    A crash mid-save leaves the previous checkpoint whole. The loop state is written last: it marks
    a checkpoint complete.
    """
    staging = checkpoint.with_name(f"{checkpoint.name}.saving")
    if accelerator.is_main_process:
        shutil.rmtree(staging, ignore_errors=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(staging))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        atomic_write_json(staging / STATE, {"config": asdict(config), **state})
        replace_directory(staging, checkpoint)
    accelerator.wait_for_everyone()


def _load_checkpoint(accelerator: Accelerator, checkpoint: Path, config: LoopConfig, *, strict: bool) -> dict:
    state_file = checkpoint / STATE
    if not state_file.is_file():
        raise UserError(f"Nothing to resume: no complete checkpoint in {checkpoint}.")
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    before = saved.pop("config")
    changed = {
        k: (before.get(k), v) for k, v in asdict(config).items() if k not in RESUMABLE_CHANGES and before.get(k) != v
    }
    if changed:
        details = ", ".join(f"{k}: {old} -> {new}" for k, (old, new) in changed.items())
        raise UserError(f"Cannot resume: the training settings changed since the checkpoint ({details}).")
    accelerator.load_state(str(checkpoint), strict=strict)
    return saved


def _checkpoint_trainable_weights_only(models: list[torch.nn.Module], weights: list[dict], _: str) -> None:
    """accelerate save-state hook: leave frozen weights out (a LoRA checkpoint holds the adapter, megabytes,
    not the frozen base, gigabytes at real sizes)."""
    for i, model in enumerate(models):
        frozen = {name for name, p in model.named_parameters(remove_duplicate=False) if not p.requires_grad}
        if frozen:  # an OrderedDict, as accelerate expects of a state dict
            weights[i] = OrderedDict((name, t) for name, t in weights[i].items() if name not in frozen)


class _TiedWeightsNote(logging.Filter):
    """accelerate warns on every checkpoint of a model with tied embeddings that it saved the tied tensor once;
    that is what should happen, and the warning only alarms users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Removed shared tensor" not in record.getMessage()  # accelerate prefixes "[RANK n] "


logging.getLogger("accelerate.utils.other").addFilter(_TiedWeightsNote())


def _progress(description: str, *, enabled: bool) -> Progress:
    return Progress(
        TextColumn(f"[bold]{description}[/]"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


def _info(
    train_loss: float, val_loss: float | None, rate: float, flops_per_token: float | None, peak: float | None
) -> str:
    parts = [f"loss {train_loss:.3f}"]
    if val_loss is not None:
        parts.append(f"val {val_loss:.3f}")
    parts.append(f"{rate:,.0f} tok/s")
    if flops_per_token and peak:
        parts.append(f"MFU {rate * flops_per_token / peak:.1%}")
    return " · ".join(parts)


class LossCurve:
    """The loss curve as CSV rows appended during training, and a PNG drawn from them."""

    FIELDS = ("step", "train_loss", "val_loss", "learning_rate", "tokens_per_s")

    def __init__(self, path: Path, *, after_step: int = 0) -> None:
        """Start the curve, or continue it after `after_step` (a resume drops the rows of steps it redoes)."""
        self.path = path
        kept = []
        if path.exists():
            with path.open(encoding="utf-8") as handle:
                kept = [row for row in list(csv.reader(handle))[1:] if row and int(row[0]) <= after_step]
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(self.FIELDS)
            writer.writerows(kept)
        self.last_step = int(kept[-1][0]) if kept else 0

    def add(self, step: int, train: float, val: float | None, lr: float, rate: float) -> None:
        with self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow([step, f"{train:.5f}", "" if val is None else f"{val:.5f}", lr, f"{rate:.1f}"])
        self.last_step = step

    def plot(self, png: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        with self.path.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        if not rows:
            return
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot([int(r["step"]) for r in rows], [float(r["train_loss"]) for r in rows], label="train")
        val = [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"]]
        if val:
            ax.plot(*zip(*val, strict=True), marker="o", label="validation")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss")
        ax.legend()
        fig.tight_layout()
        fig.savefig(png, dpi=100)
        plt.close(fig)
