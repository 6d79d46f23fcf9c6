"""Training throughput: `journey train` vs a minimal hand-written PyTorch loop, same model, data and steps.

For each preset, in the same run and alternating which goes first: our `train()` (the
shared accelerate loop, with its progress bookkeeping, loss curve and checkpoint), then
a bare loop — AdamW, the same warm-up + cosine schedule, clipping — over the same
packed rows in the same order, from the same initial weights. Training throughput is
compared (tokens/s over the optimizer steps; our final validation and checkpoint are
reported apart as end-to-end tokens/s), best of `--repeats` runs each so that bursts of
other work on a shared machine count less. MFU is against this machine's measured peak.

    .venv/bin/python benchmarks/bench_train.py [--tiny-steps 20] [--small-steps 6] [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import torch
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast, get_cosine_schedule_with_warmup

from journey.demo import create_demo_workspace
from journey.models.loading import cache_root
from journey.train import train
from journey.train.corpus import load_corpus
from journey.train.data import collate, pack
from journey.train.flops import peak_flops
from journey.train.presets import llama_config, model_dims
from journey.train.run import STATE_NAME, TOKENIZER_DIR
from journey.workspace import Workspace

# No validation or checkpoint inside the measured steps (the end of the run still does both).
BENCH_TRAIN = "\n[train]\neval_every = 100000\ncheckpoint_every = 100000\ninstruction_steps = 0\n"


def ours(workspace: Workspace, preset: str, steps: int) -> dict[str, float]:
    report = train(workspace, preset=preset, max_steps=steps, progress=False)
    with (report.run_dir / "loss.csv").open(encoding="utf-8") as handle:
        last = list(csv.DictReader(handle))[-1]  # the loop's rate after the last step, before validation
    summary = json.loads((report.run_dir / "run.json").read_text(encoding="utf-8"))
    return {
        "tokens_per_s": float(last["tokens_per_s"]),
        "end_to_end": report.tokens_per_second,
        "parameters": report.parameters,
        "flops_per_token": summary["flops_per_token"],
    }


def hand_loop(workspace: Workspace, preset: str, steps: int) -> dict[str, float]:
    """The same training, written out: no accelerate, no bookkeeping."""
    settings = workspace.settings.train.model_copy(update={"preset": preset})
    tokenizer = PreTrainedTokenizerFast.from_pretrained(workspace.checkpoints_dir / STATE_NAME / TOKENIZER_DIR)
    rows = pack(
        load_corpus(workspace).documents,
        tokenizer,
        seq_len=settings.seq_len,
        batch_size=settings.batch_size,
        val_fraction=settings.val_fraction,
        seed=settings.seed,
    ).train
    torch.manual_seed(settings.seed)
    model = LlamaForCausalLM(llama_config(model_dims(settings), tokenizer))
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, settings.warmup_steps, steps)
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(settings.seed * 1000)).tolist()
    model.train()
    tokens, start = 0, time.perf_counter()
    for step in range(steps):
        batch = collate([rows[i] for i in order[step * settings.batch_size : (step + 1) * settings.batch_size]])
        loss = model(**batch, use_cache=False).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        tokens += batch["input_ids"].numel()
    return {"tokens_per_s": tokens / (time.perf_counter() - start)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny-steps", type=int, default=20)
    parser.add_argument("--small-steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, alternating order; the best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        create_demo_workspace(root)
        with (root / "journey.toml").open("a", encoding="utf-8") as handle:
            handle.write(BENCH_TRAIN)
        workspace = Workspace.load(root)
        peak = peak_flops(cache_root(), torch.device("cpu")).float32
        print(f"{torch.get_num_threads()} threads; measured float32 peak {peak / 1e9:.0f} GFLOP/s")
        print(
            "| preset | params | steps × tokens | journey train tok/s | hand loop tok/s | ratio | MFU ours / hand |"
            " end-to-end tok/s |\n|---|---|---|---|---|---|---|---|"
        )
        for preset, steps in (("tiny", args.tiny_steps), ("small", args.small_steps)):
            # `ours` goes first once (it trains the tokenizer the hand loop reuses), then the order alternates.
            runs: dict[str, list[dict[str, float]]] = {"ours": [], "hand": []}
            for repeat in range(args.repeats):
                order = ("ours", "hand") if repeat % 2 == 0 else ("hand", "ours")
                for name in order:
                    loop = ours if name == "ours" else hand_loop
                    runs[name].append(loop(workspace, preset, steps))
            mine, bare = (max(runs[name], key=lambda run: run["tokens_per_s"]) for name in ("ours", "hand"))
            settings = workspace.settings.train
            mfu = [run["tokens_per_s"] * mine["flops_per_token"] / peak for run in (mine, bare)]
            print(
                f"| {preset} | {mine['parameters'] / 1e6:.1f}M | {steps} × {settings.batch_size * settings.seq_len} "
                f"| {mine['tokens_per_s']:,.0f} | {bare['tokens_per_s']:,.0f} "
                f"| {mine['tokens_per_s'] / bare['tokens_per_s']:.2f} | {mfu[0]:.1%} / {mfu[1]:.1%} "
                f"| {mine['end_to_end']:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
