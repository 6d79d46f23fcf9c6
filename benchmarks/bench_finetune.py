"""Fine-tuning throughput: `journey finetune` vs TRL's SFTTrainer and a plain transformers Trainer + PEFT.

All fine-tune SmolLM2-135M-Instruct with the same LoRA (rank, alpha, targets, no dropout)
on the demo company's tickets — the same encoded conversations (journey's `prepare()`: the
same retrieved context mixed in, augmentation-aware; the base model's own chat template;
labels on assistant tokens only, end-of-turn included) — for the same number of optimizer
steps of about the same number of tokens.

- ours: `finetune()` — conversations packed into rows (padding-free, block-diagonal
  attention), LM head only where a label is learnt, in the precision `auto` picks here
  (models/precision.py: bf16 where the hardware executes it natively, else float32);
- ours-fp32: the same forced to float32, for loss parity — skipped (and said why) where
  `auto` already is float32;
- trl: TRL's `SFTTrainer` configured as journey trains: the same examples (pre-tokenized
  with their assistant-only labels, so TRL's `assistant_only_loss`, which needs
  `{% generation %}` markers SmolLM2's template lacks, is not needed), `packing=True` with
  `packing_strategy="bfd"` and `padding_free=True` at journey's row length, one packed row
  per micro-batch and journey's rows per step, a `peft_config` with the same LoRA, cosine
  schedule with the same warm-up, no gradient checkpointing, and the same `auto` precision;
- baseline: `Trainer` + `get_peft_model`, batches padded to the longest, float32.

There is no forced-bf16 variant: where bf16 is native, `ours` runs it; where it is not
(AVX2-only CPUs) a bf16 matmul is ~20-90x slower than fp32, and no one would train so.

Throughput counts real (non-padding) tokens per second of the optimizer steps, for every
variant: journey's loop counts them; for the Trainers, the micro-batches' attention masks
(or, padding-free, their tokens) from the first step to the last. Each variant runs in its
own process, so peak memory (max RSS) is its own. The table ends with ours / trl and
ours / baseline.

    .venv/bin/python benchmarks/bench_finetune.py [--steps 8] [--batch-tokens 2048] [--workspace DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does: before torch loads
import torch

from journey.workspace import FinetuneSettings, Workspace

VARIANTS = ("ours", "ours-fp32", "trl", "baseline")


def device_type() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"  # where finetune() and the Trainers run


def native_precision():
    """What `auto` picks for fine-tuning on this machine (bf16 only where it is executed natively)."""
    from journey.models.precision import choose_precision

    return choose_precision("auto", device_type(), job="fine-tuning")


def skip_reason(variant: str) -> str | None:
    if variant == "ours-fp32" and not native_precision().bf16:
        return f"ours already runs float32 here: auto chose {native_precision()}"
    return None


def settings_for(workspace: Workspace, args: argparse.Namespace, *, bf16: bool | str) -> FinetuneSettings:
    overrides = {"batch_tokens": args.batch_tokens, "eval_every": 10**6, "bf16": bf16, "max_steps": args.steps}
    return FinetuneSettings.model_validate(workspace.settings.finetune.model_dump() | overrides)


def ours(workspace: Workspace, args: argparse.Namespace, *, bf16: bool | str) -> dict:
    from journey.finetune import finetune

    output = Path(tempfile.mkdtemp()) / "adapter"
    report = finetune(workspace, output=output, settings=settings_for(workspace, args, bf16=bf16), progress=False)
    with (report.run_dir / "loss.csv").open(encoding="utf-8") as handle:
        last = list(csv.DictReader(handle))[-1]  # the loop's rate after the last step, before validation
    return {
        "precision": "bfloat16" if report.precision.startswith("bfloat16") else "float32",
        "tokens_per_s": float(last["tokens_per_s"]),
        "tokens_per_step": report.tokens / report.steps,
        "train_loss": report.train_loss,
        "val_loss": report.val_loss,
    }


def prepared(workspace: Workspace, settings: FinetuneSettings):
    """journey's examples (the same for every variant), its row length and precision; its own model let go."""
    from journey.finetune.run import prepare

    output = Path(tempfile.mkdtemp()) / "bench"
    run = prepare(workspace, settings, base=workspace.settings.model.base, output=output, resume=False, progress=False)
    del run.model
    return run


def rows_per_step(settings: FinetuneSettings, seq_len: int) -> int:
    """Packed rows in one of journey's optimizer steps, as finetune's fit_and_save counts them (at least one)."""
    return max(1, round(settings.batch_tokens / seq_len))


def lora_config(settings: FinetuneSettings):
    from peft import LoraConfig

    return LoraConfig(
        r=settings.lora_r,
        lora_alpha=settings.lora_alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=settings.target_modules,
        task_type="CAUSAL_LM",
    )


def measured_trainer(trainer_class):
    """`trainer_class` that counts the real tokens of its micro-batches and times its optimizer steps."""
    from transformers import TrainerCallback

    class Clock(TrainerCallback):
        start = end = 0.0

        def on_train_begin(self, *args, **kwargs) -> None:  # after the optimizer is built, as journey's loop starts
            self.start = time.perf_counter()

        def on_step_end(self, *args, **kwargs) -> None:
            self.end = time.perf_counter()

    class Measured(trainer_class):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.real_tokens = 0
            self.clock = Clock()
            self.add_callback(self.clock)

        def training_step(self, model, inputs, num_items_in_batch=None):
            mask = inputs.get("attention_mask")
            self.real_tokens += int(mask.sum()) if mask is not None else inputs["input_ids"].numel()  # padding-free
            return super().training_step(model, inputs, num_items_in_batch)

        def measurements(self, steps: int) -> dict:
            losses = [entry["loss"] for entry in self.state.log_history if "loss" in entry]
            return {
                "tokens_per_s": self.real_tokens / (self.clock.end - self.clock.start),
                "tokens_per_step": self.real_tokens / steps,
                "train_loss": losses[-1],
                "val_loss": None,
            }

    return Measured


def trl_sft(workspace: Workspace, args: argparse.Namespace) -> dict:
    """TRL's SFTTrainer on journey's examples: BFD packing, padding-free, the same LoRA and `auto` precision."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM
    from trl import SFTConfig, SFTTrainer

    from journey.models.loading import resolve_base

    settings = settings_for(workspace, args, bf16="auto")
    run = prepared(workspace, settings)
    dtype = torch.bfloat16 if run.precision.bf16 else torch.float32  # a frozen bf16 base under LoRA, as journey
    trainer = measured_trainer(SFTTrainer)(
        model=AutoModelForCausalLM.from_pretrained(resolve_base(run.base), dtype=dtype),
        args=SFTConfig(
            output_dir=tempfile.mkdtemp(),
            max_steps=args.steps,
            max_length=run.seq_len,
            packing=True,
            packing_strategy="bfd",
            padding_free=True,
            per_device_train_batch_size=1,  # one packed row a micro-batch, as journey
            gradient_accumulation_steps=rows_per_step(settings, run.seq_len),
            learning_rate=settings.learning_rate,
            lr_scheduler_type="cosine",
            warmup_steps=round(settings.warmup_fraction * args.steps),
            activation_checkpointing=False,  # TRL turns it on by default; journey does not recompute activations
            bf16=run.precision.bf16,
            logging_steps=1,
            save_strategy="no",
            report_to=[],
            seed=settings.seed,
            disable_tqdm=True,
        ),
        train_dataset=Dataset.from_list([{"input_ids": e.input_ids, "labels": e.labels} for e in run.train]),
        processing_class=run.tokenizer,
        peft_config=lora_config(settings),
    )
    trainer.train()
    return {"precision": run.precision.dtype} | trainer.measurements(args.steps)


def baseline(workspace: Workspace, args: argparse.Namespace) -> dict:
    """transformers Trainer + PEFT on the same encoded conversations, padded to the longest, fp32."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from journey.finetune.encode import IGNORE
    from journey.models.loading import resolve_base

    settings = settings_for(workspace, args, bf16=False)
    run = prepared(workspace, settings)
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(resolve_base(run.base), dtype=torch.float32), lora_config(settings)
    )
    mean_length = sum(len(e.input_ids) for e in run.train) / len(run.train)
    step_tokens = rows_per_step(settings, run.seq_len) * run.seq_len * 0.99  # journey's rows are ~99% full
    per_step = max(1, round(step_tokens / mean_length))  # conversations in one of journey's steps
    micro = next(m for m in (4, 3, 2, 1) if per_step % m == 0)

    def pad_to_longest(rows: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(r["input_ids"]) for r in rows)
        batch = {
            "input_ids": torch.full((len(rows), width), run.tokenizer.pad_token_id),
            "attention_mask": torch.zeros((len(rows), width), dtype=torch.long),
            "labels": torch.full((len(rows), width), IGNORE),
        }
        for i, row in enumerate(rows):
            n = len(row["input_ids"])
            batch["input_ids"][i, :n] = torch.tensor(row["input_ids"])
            batch["attention_mask"][i, :n] = 1
            batch["labels"][i, :n] = torch.tensor(row["labels"])
        return batch

    trainer = measured_trainer(Trainer)(
        model=model,
        args=TrainingArguments(
            output_dir=tempfile.mkdtemp(),
            max_steps=args.steps,
            per_device_train_batch_size=micro,
            gradient_accumulation_steps=per_step // micro,
            learning_rate=settings.learning_rate,
            lr_scheduler_type="cosine",
            warmup_steps=round(settings.warmup_fraction * args.steps),
            logging_steps=1,
            save_strategy="no",
            report_to=[],
            remove_unused_columns=False,
            seed=settings.seed,
            disable_tqdm=True,
        ),
        train_dataset=[{"input_ids": e.input_ids, "labels": e.labels} for e in run.train],
        data_collator=pad_to_longest,
    )
    trainer.train()
    return {"precision": "float32"} | trainer.measurements(args.steps)


def run_variant(variant: str, workspace_dir: Path, args: argparse.Namespace) -> dict:
    workspace = Workspace.load(workspace_dir)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    if variant == "trl":
        measured = trl_sft(workspace, args)
    elif variant == "baseline":
        measured = baseline(workspace, args)
    else:
        measured = ours(workspace, args, bf16=False if variant == "ours-fp32" else "auto")
    measured["wall_s"] = time.perf_counter() - start
    measured["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return measured


def prepare_workspace(directory: Path) -> Path:
    """The demo workspace with its knowledge index and the retrieved contexts cached (not timed)."""
    from journey.assistant.prompts import system_prompt
    from journey.demo import create_demo_workspace
    from journey.finetune.run import augmentation_aware_forms
    from journey.knowledge import build_index
    from journey.training.tickets import read_tickets

    if not (directory / "journey.toml").is_file():
        create_demo_workspace(directory)
    workspace = Workspace.load(directory)
    build_index(workspace, progress=False)
    tickets = read_tickets(workspace.tickets_path, system_prompt(workspace.settings)).tickets
    handovers = [i for i, t in enumerate(tickets) if t.handover is not None]
    augmentation_aware_forms(
        workspace, [t.messages for t in tickets], handovers, workspace.settings.finetune, progress=True
    )
    return directory


def ratio(results: dict[str, dict], ours: str, other: str) -> str:
    if ours not in results or other not in results:
        return "not measured"
    return f"{results[ours]['tokens_per_s'] / results[other]['tokens_per_s']:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per variant")
    parser.add_argument("--batch-tokens", type=int, default=2048, help="tokens per optimizer step")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--workspace", type=Path, help="an existing workspace (default: a fresh demo workspace)")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # internal: one variant, as JSON
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.workspace, args)))
        return

    print(f"precision: auto picks {native_precision()} for fine-tuning on {device_type()}", flush=True)
    directory = prepare_workspace(args.workspace or Path(tempfile.mkdtemp()) / "demo")
    results = {}
    for variant in VARIANTS:
        if reason := skip_reason(variant):
            print(f"{variant} skipped: {reason}", flush=True)
            continue
        command = [sys.executable, __file__, "--variant", variant, "--workspace", str(directory)]
        command += [
            "--steps",
            str(args.steps),
            "--batch-tokens",
            str(args.batch_tokens),
            "--threads",
            str(args.threads),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"{variant} failed:\n{done.stderr[-4000:]}")
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        print(variant, json.dumps(results[variant]), flush=True)

    header = f"{'variant':<10} {'precision':<9} {'real tok/s':>10} {'tok/step':>8} {'train loss':>10} {'val loss':>9}"
    print(f"\n{header} {'peak MB':>8}")
    for name, r in results.items():
        val = f"{r['val_loss']:.4f}" if r["val_loss"] is not None else "-"
        print(
            f"{name:<10} {r['precision']:<9} {r['tokens_per_s']:>10.1f} {r['tokens_per_step']:>8.0f} "
            f"{r['train_loss']:>10.4f} {val:>9} {r['peak_rss_mb']:>8.0f}"
        )
    print(f"\nthroughput (real tokens/s) ours / trl: {ratio(results, 'ours', 'trl')}")
    print(f"throughput (real tokens/s) ours / baseline: {ratio(results, 'ours', 'baseline')}  (target >= 1.5)")
    if "ours-fp32" in results and None not in (results["ours"]["val_loss"], results["ours-fp32"]["val_loss"]):
        parity = abs(results["ours"]["val_loss"] - results["ours-fp32"]["val_loss"])
        print(f"loss parity, validation loss {results['ours']['precision']} vs float32: |diff| = {parity:.4f}")


if __name__ == "__main__":
    main()
