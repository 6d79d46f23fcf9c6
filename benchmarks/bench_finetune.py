"""Fine-tuning throughput: `journey finetune` vs a plain transformers Trainer + PEFT baseline, same data and steps.

Both fine-tune SmolLM2-135M-Instruct with the same LoRA (rank, alpha, targets, no dropout)
on the demo company's tickets — the same conversations, with the same retrieved context
mixed in (augmentation-aware), the same chat template and assistant-only labels — for the
same number of optimizer steps of about the same number of conversations.

- ours: `finetune()` — conversations packed into rows (padding-free, block-diagonal
  attention), bf16 autocast over a bf16 frozen base, LM head only where a label is learnt;
- ours-fp32: the same in float32, for loss parity;
- baseline: `Trainer` + `get_peft_model`, batches padded to the longest, float32.

Throughput counts real (non-padding) tokens per second of the optimizer steps. Each
variant runs in its own process, so peak memory (max RSS) is its own.

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

from journey.workspace import Workspace

VARIANTS = ("ours", "ours-fp32", "baseline")


def settings_for(workspace: Workspace, args: argparse.Namespace, *, bf16: bool):
    from journey.finetune.run import with_overrides

    return with_overrides(
        workspace.settings.finetune, batch_tokens=args.batch_tokens, eval_every=10**6, bf16=bf16, max_steps=args.steps
    )


def ours(workspace: Workspace, args: argparse.Namespace, *, bf16: bool) -> dict:
    from journey.finetune import finetune

    output = Path(tempfile.mkdtemp()) / "adapter"
    report = finetune(workspace, output=output, settings=settings_for(workspace, args, bf16=bf16), progress=False)
    with (report.run_dir / "loss.csv").open(encoding="utf-8") as handle:
        last = list(csv.DictReader(handle))[-1]  # the loop's rate after the last step, before validation
    return {
        "tokens_per_s": float(last["tokens_per_s"]),
        "tokens_per_step": report.tokens / report.steps,
        "train_loss": report.train_loss,
        "val_loss": report.val_loss,
    }


def baseline(workspace: Workspace, args: argparse.Namespace) -> dict:
    """transformers Trainer + PEFT on the same encoded conversations, padded to the longest, fp32."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments

    from journey.finetune.encode import IGNORE
    from journey.finetune.run import setup
    from journey.models.loading import resolve_base

    settings = settings_for(workspace, args, bf16=False)
    base = workspace.settings.model.base
    output = Path(tempfile.mkdtemp()) / "bench-baseline"
    run = setup(workspace, settings, base=base, output=output, resume=False, progress=False)  # the same examples
    del run.model
    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(resolve_base(base), dtype=torch.float32),
        LoraConfig(
            r=settings.lora_r,
            lora_alpha=settings.lora_alpha,
            lora_dropout=settings.lora_dropout,
            target_modules=settings.target_modules,
            task_type="CAUSAL_LM",
        ),
    )
    mean_length = sum(len(e.input_ids) for e in run.train) / len(run.train)
    per_step = max(1, round(settings.batch_tokens * 0.99 / mean_length))  # conversations in one of our steps
    micro = next(m for m in (4, 3, 2, 1) if per_step % m == 0)
    counted = {"real": 0}

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
        counted["real"] += int(batch["attention_mask"].sum())
        return batch

    trainer = Trainer(
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
    start = time.perf_counter()
    trainer.train()
    return {
        "tokens_per_s": counted["real"] / (time.perf_counter() - start),
        "tokens_per_step": counted["real"] / args.steps,
        "train_loss": trainer.state.log_history[-2]["loss"],
        "val_loss": None,
    }


def run_variant(variant: str, workspace_dir: Path, args: argparse.Namespace) -> dict:
    workspace = Workspace.load(workspace_dir)
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    measured = baseline(workspace, args) if variant == "baseline" else ours(workspace, args, bf16=variant == "ours")
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
    augmentation_aware_forms(workspace, [t.messages for t in tickets], workspace.settings.finetune, progress=True)
    return directory


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

    directory = prepare_workspace(args.workspace or Path(tempfile.mkdtemp()) / "demo")
    results = {}
    for variant in VARIANTS:
        command = [sys.executable, __file__, "--variant", variant, "--workspace", str(directory)]
        command += [
            "--steps",
            str(args.steps),
            "--batch-tokens",
            str(args.batch_tokens),
            "--threads",
            str(args.threads),
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
        print(variant, json.dumps(results[variant]), flush=True)

    ratio = results["ours"]["tokens_per_s"] / results["baseline"]["tokens_per_s"]
    parity = abs(results["ours"]["val_loss"] - results["ours-fp32"]["val_loss"])
    print(f"\n{'variant':<10} {'real tok/s':>10} {'tok/step':>8} {'train loss':>10} {'val loss':>9} {'peak MB':>8}")
    for name, r in results.items():
        val = f"{r['val_loss']:.4f}" if r["val_loss"] is not None else "-"
        print(
            f"{name:<10} {r['tokens_per_s']:>10.1f} {r['tokens_per_step']:>8.0f} {r['train_loss']:>10.4f} {val:>9} "
            f"{r['peak_rss_mb']:>8.0f}"
        )
    print(f"\nthroughput ours / baseline: {ratio:.2f}x  (target >= 1.5)")
    print(f"loss parity, validation loss bf16 vs fp32: |diff| = {parity:.4f}")


if __name__ == "__main__":
    main()
