"""Evaluation throughput: questions/minute with batched generation vs one question at a time.

Both passes run `journey evaluate`'s own runner in the same process on the same
questions of the demo eval set, with the real default model (SmolLM2-135M-Instruct;
the first load converts the embedded GGUF once, ~20 s, then it is cached). Only
answering time counts (the runner's per-answer wall-clock), not model loading.
The target is a ratio of at least 3.

Run: .venv/bin/python benchmarks/bench_evaluate.py [--questions 16] [--batch-size N] [--setups as-is] [--threads N]
(--threads 1 gives steadier numbers on a machine other processes keep busy.)
"""

from __future__ import annotations

import argparse
import dataclasses

import torch
from demo_bench import warm_demo
from rich.console import Console

from journey.evaluate.runner import evaluate
from journey.workspace import Workspace


def with_batch_size(workspace: Workspace, size: int) -> Workspace:
    model = workspace.settings.model.model_copy(update={"batch_size": size})
    return dataclasses.replace(workspace, settings=workspace.settings.model_copy(update={"model": model}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the workspace's model.batch_size")
    parser.add_argument("--setups", default="as-is", help="comma-separated; augmented set-ups build the index first")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    setups = args.setups.split(",")
    console = Console(stderr=True)
    with warm_demo(setups, args.threads, console) as workspace:
        batch_size = args.batch_size or workspace.settings.model.batch_size
        rates = {}
        for label, size in (("one-by-one", 1), ("batched", batch_size)):
            results = evaluate(
                with_batch_size(workspace, size), setups, console=console, limit=args.questions, run_id=label
            )
            rates[label] = {s: results.metrics[s].overall.questions_per_min for s in setups}
    print(
        f"{args.questions} questions, batch size {batch_size}, {torch.get_num_threads()} torch thread(s), "
        f"model {workspace.settings.model.base}"
    )
    print(f"{'set-up':<22}{'one by one q/min':>18}{'batched q/min':>16}{'ratio':>8}")
    for setup in setups:
        single, batched = rates["one-by-one"][setup], rates["batched"][setup]
        print(f"{setup:<22}{single:>18.1f}{batched:>16.1f}{batched / single:>8.2f}")


if __name__ == "__main__":
    main()
