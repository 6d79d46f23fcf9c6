"""`journey finetune --method dpo|kto`: prepare → fit_and_save. Preference fine-tuning of the fine-tuned LoRA
adapter on the feedback `journey harvest` wrote and the user reviewed, with TRL's DPOTrainer (pairs: the agent's
correction over the bot's thumbs-down answer) or KTOTrainer (every rated answer, thumbs up or down).

The SFT adapter the finetuned set-ups load is loaded trainable; TRL copies it as the frozen reference, so the
stage moves away from what the fine-tuned bot does now by as much as `preference.beta` allows. The result is
its own adapter folder (`.journey/adapters/preference`, which the `preference-tuned` set-up loads), written
whole with its training-info file; the SFT adapter is left as it was. Checkpoints go to
`.journey/checkpoints/preference-<folder>/`: Ctrl-C finishes the step under way, saves one and `--resume`
continues from it; a time budget stops early and saves as usual. Precision is decided as the SFT path does.
"""

from __future__ import annotations

import logging
import math
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from journey.assistant.prompts import system_prompt
from journey.errors import UserError
from journey.finetune.output import check_output
from journey.finetune.run import peak_memory_mb, prepare_state
from journey.models.adapters import check_adapter, training_info
from journey.models.loading import load_model
from journey.models.precision import Precision, choose_precision
from journey.training.loop import process_state, time_left
from journey.training.output import RETRY_TRAINING, new_run_dir, save_model_folder, write_run_summary
from journey.training.preferences import Kind, Preferences, read_preferences
from journey.workspace import PreferenceSettings, Workspace, with_overrides

log = logging.getLogger(__name__)
REFERENCE = "ref"  # the adapter TRL adds as the frozen reference: not saved


@dataclass
class PreferenceReport:
    """What a preference stage did; also written to the run folder as run.json."""

    method: Kind
    base: str
    adapter: Path  # the SFT adapter it started from
    output: Path
    run_dir: Path
    steps: int
    planned_steps: int
    examples: int
    skipped: list[str]
    train_loss: float
    metrics: dict[str, float]  # TRL's last logged rewards (DPO: accuracies, margins; KTO: chosen, rejected)
    seconds: float
    peak_memory_mb: float
    precision: str
    budget_limited: bool = False

    def summary(self) -> str:
        """The one line `journey finetune --method dpo|kto` prints."""
        shown = ", ".join(f"{name} {value:.3f}" for name, value in self.metrics.items())
        return (
            f"{self.method.upper()} on {self.examples} harvested example(s) ({len(self.skipped)} skipped) from "
            f"{self.adapter}: {self.steps} steps, loss {self.train_loss:.3f}{'; ' + shown if shown else ''} "
            f"({self.precision}); peak memory {self.peak_memory_mb:,.0f} MB; {self.seconds:.0f} s."
        )


def preference_finetune(
    workspace: Workspace,
    kind: Kind,
    *,
    output: Path | None = None,
    max_steps: int | None = None,
    learning_rate: float | None = None,
    epochs: float | None = None,
    resume: bool = False,
    force: bool = False,
    budget_s: float | None = None,
    progress: bool = True,
) -> PreferenceReport:
    """Train the SFT adapter further on the harvested DPO pairs or KTO labels; save to `output`
    (default: the adapter the preference-tuned set-up loads)."""
    started = time.perf_counter()
    output = output or workspace.preference_adapter_dir
    check_output(workspace, output, force=force, keep=(workspace.adapter_dir,))
    overrides = {"max_steps": max_steps, "learning_rate": learning_rate, "epochs": epochs}
    settings = with_overrides(workspace.settings.preference, what="preference fine-tuning", **overrides)
    data = read_preferences(workspace, kind, system_prompt(workspace.settings))
    if not (workspace.adapter_dir / "adapter_config.json").is_file():
        raise UserError(
            f"The preference stage continues the LoRA adapter in {workspace.adapter_dir}, and there is none: "
            "run `journey finetune` (method lora) first."
        )
    check_adapter(workspace.adapter_dir)
    run = prepare(workspace, data, settings, output=output, resume=resume, progress=progress)
    return fit_and_save(workspace, run, resume=resume, started=started, budget_s=budget_s)


@dataclass
class Prepared:
    """The TRL trainer and what the report needs to know of how it was set up."""

    data: Preferences
    settings: PreferenceSettings
    output: Path
    trainer: Any  # trl.DPOTrainer or trl.KTOTrainer
    steps: int
    precision: Precision


def prepare(
    workspace: Workspace, data: Preferences, settings: PreferenceSettings, *, output: Path, resume: bool, progress: bool
) -> Prepared:
    """The TRL trainer over the SFT adapter (trainable) and the rows, in the precision this machine runs natively."""
    import datasets
    from peft import PeftModel
    from trl import DPOConfig, DPOTrainer, KTOConfig, KTOTrainer

    state = process_state()
    state_dir = workspace.checkpoints_dir / f"preference-{output.name}"
    if resume and not any(state_dir.glob("checkpoint-*")):
        raise UserError(f"Nothing to resume: no {data.kind.upper()} checkpoint in {state_dir}.")
    base = workspace.settings.model.base
    plan = {"method": data.kind, "base": base, "data_sha256": data.sha256, **settings.model_dump()}
    plan["adapter_run"] = training_info(workspace.adapter_dir).get("run")
    with state.main_process_first():
        prepare_state(state_dir, plan, resume=resume, is_main=state.is_main_process)
    precision = choose_precision(workspace.settings.finetune.bf16, state.device.type, job="preference fine-tuning")
    model, tokenizer = load_model(base, dtype="bfloat16" if precision.bf16 else "float32")
    model = PeftModel.from_pretrained(model, str(workspace.adapter_dir), is_trainable=True)
    steps = settings.max_steps or max(1, math.ceil(settings.epochs * len(data.rows) / settings.batch_size))
    common = {
        "output_dir": str(state_dir),
        "max_steps": steps,
        "per_device_train_batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": round(settings.warmup_fraction * steps),
        "beta": settings.beta,
        "max_length": settings.max_length,
        "bf16": precision.bf16,  # TRL's own default is bf16 everywhere: ~20-90x slower on AVX2-only CPUs
        "activation_checkpointing": False,  # as journey's SFT loop; TRL's default costs ~20% of the speed
        "use_cpu": state.device.type == "cpu",  # bf16 on a CPU (AMX) is refused without it
        "dataloader_pin_memory": state.device.type == "cuda",
        "save_strategy": "steps",
        "save_steps": settings.checkpoint_every,
        "save_total_limit": 2,
        "logging_steps": 1,
        "report_to": "none",
        "seed": settings.seed,
        "disable_tqdm": not (progress and state.is_main_process),
    }
    rows = datasets.Dataset.from_list(data.rows)
    if data.kind == "dpo":
        config, trainer_class = DPOConfig(**common), DPOTrainer
    else:
        up = sum(row["label"] for row in data.rows)
        down = len(data.rows) - up
        # TRL's guidance: desirable_weight·ups / (undesirable_weight·downs) within 1 to 4/3; weigh up the rarer kind.
        weights = {"desirable_weight": max(1.0, down / up), "undesirable_weight": max(1.0, up / down)}
        config, trainer_class = KTOConfig(**common, **weights), KTOTrainer
    trainer = trainer_class(model=model, args=config, train_dataset=rows, processing_class=tokenizer)
    return Prepared(data, settings, output, trainer, steps, precision)


def fit_and_save(
    workspace: Workspace, run: Prepared, *, resume: bool, started: float, budget_s: float | None
) -> PreferenceReport:
    """Train (stopping cleanly on Ctrl-C or at the budget), save the adapter without TRL's reference, write run.json."""
    stop = StopCleanly(time_left(budget_s, started))
    run.trainer.add_callback(stop)
    with stop.on_ctrl_c():
        run.trainer.train(resume_from_checkpoint=True if resume else None)
    if stop.interrupted:
        log.warning("Stopped at step %d of %d; the checkpoint is saved. Continue with --resume.", stop.step, run.steps)
        raise KeyboardInterrupt
    model = run.trainer.accelerator.unwrap_model(run.trainer.model)
    if REFERENCE in model.peft_config:
        model.delete_adapter(REFERENCE)
    logged = [entry for entry in run.trainer.state.log_history if "loss" in entry]
    last = logged[-1] if logged else {}
    data = run.data
    report = PreferenceReport(
        method=data.kind,
        base=workspace.settings.model.base,
        adapter=workspace.adapter_dir,
        output=run.output,
        run_dir=new_run_dir(workspace, f"finetune-{data.kind}"),
        steps=run.trainer.state.global_step,
        planned_steps=run.steps,
        examples=len(data.rows),
        skipped=[str(p) for p in data.skipped],
        train_loss=float(last.get("loss", math.nan)),
        metrics={k: float(v) for k, v in last.items() if k.startswith("rewards/") and isinstance(v, int | float)},
        seconds=0.0,
        peak_memory_mb=peak_memory_mb(),
        precision=str(run.precision),
        budget_limited=stop.budget_limited,
    )
    if process_state().is_main_process:
        info = {
            "base": report.base,
            "method": data.kind,
            "adapter": str(workspace.adapter_dir),
            "adapter_run": training_info(workspace.adapter_dir).get("run"),
            "data": str(data.path),
            "data_sha256": data.sha256,
            "steps": report.steps,
            "settings": run.settings.model_dump(),
            "run": report.run_dir.name,
        }
        save_model_folder(model, None, run.output, info, retry=RETRY_TRAINING)
        report.seconds = time.perf_counter() - started
        paths = {"adapter": str(report.adapter), "output": str(report.output), "run_dir": str(report.run_dir)}
        summary = {**asdict(report), **paths, "data_sha256": data.sha256, "settings": run.settings.model_dump()}
        write_run_summary(report.run_dir, f"finetune-{data.kind}", summary, copies=[])
    return report


class StopCleanly(TrainerCallback):
    """Ends a Trainer's run with a checkpoint: after the step under way on Ctrl-C (a second Ctrl-C interrupts
    at once), or before a step would run past the time budget."""

    def __init__(self, budget_s: float | None) -> None:
        self.deadline = None if budget_s is None else time.perf_counter() + budget_s
        self.interrupted = self.budget_limited = False
        self.step = 0
        self._began = time.perf_counter()

    @contextmanager
    def on_ctrl_c(self) -> Iterator[None]:
        def handler(signum: int, frame: object) -> None:
            self.interrupted = True
            signal.signal(signal.SIGINT, previous)

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._began = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.step = state.global_step
        now = time.perf_counter()
        over = self.deadline is not None and now + (now - self._began) > self.deadline
        if self.interrupted or over:
            self.budget_limited = over and not self.interrupted
            control.should_save = True
            control.should_training_stop = True
