"""One answer's latency, as a customer waits for it: the in-process backends vs transformers fp32, same run.

For the as-is and fine-tuned + augmented set-ups of the demo workspace (the embedded SmolLM2; a 4-step
LoRA adapter is trained if the workspace has none: enough for latency, not for quality), each question
is streamed alone: seconds to the first streamed piece and to the whole answer (retrieval included),
p50/p95, and whether the answer holds every reference fact, paired with the baseline on the same
questions (exact McNemar). Backends:

- `transformers fp32`: the baseline — float32, every prompt prefilled whole;
- `transformers auto`: the default — the precision `auto` picks here (printed) and prompt reuse
  (models/prefix_cache.py);
- `onnx <precision>`: ONNX Runtime GenAI (`model.backend = "onnx"`);
- `llamacpp <outtype>`: llama.cpp (`model.backend = "llamacpp"`, f16 or q8_0 GGUF).

Questions are the first N non-escalation ones of the demo eval set: this measures, it tunes nothing.

Run: .venv/bin/python benchmarks/bench_onnx.py [--questions 12] [--precision int4|int8|fp32] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from scipy.stats import binomtest

from journey.assistant import Reply, load_assistant
from journey.demo import create_demo_workspace
from journey.evaluate.evalset import load_evalset
from journey.facts import contains_fact
from journey.models.precision import choose_precision
from journey.workspace import Workspace

SETUPS = ("as-is", "finetuned+augmented")


@dataclass
class Timings:
    """Per question: seconds to the first streamed piece, to the whole answer, and whether it is correct."""

    first: list[float]
    answer: list[float]
    correct: list[bool]


def run(workspace: Workspace, setup: str, items: list, variant: str) -> Timings:
    """Stream each question alone with one backend variant, after one warm-up answer."""
    backend, _, precision = variant.partition(" ")
    settings = workspace.settings.model
    settings.backend = backend if backend in ("onnx", "llamacpp") else "transformers"
    settings.dtype = "float32" if precision == "fp32" else "auto"
    if backend == "onnx":
        settings.onnx_precision = precision
    if backend == "llamacpp":
        settings.gguf_outtype = precision
    assistant = load_assistant(workspace, setup)
    if precision == "fp32" and backend == "transformers":
        assistant.backend.prefix = None  # the baseline prefills every prompt whole
    stream(assistant, items[0].question)  # warm-up (and, with reuse, the shared prompt start)
    timings = Timings([], [], [])
    for item in items:
        start = time.perf_counter()
        first, reply = stream(assistant, item.question)
        timings.first.append(first - start)
        timings.answer.append(time.perf_counter() - start)
        timings.correct.append(not reply.handed_over and all(contains_fact(reply.answer, f) for f in item.facts))
    return timings


def stream(assistant, question: str) -> tuple[float, Reply]:
    """When the first piece came, and the final reply."""
    first = None
    for piece in assistant.stream(question):
        first = first or time.perf_counter()
        if isinstance(piece, Reply):
            return first, piece
    raise AssertionError("the stream ended without a reply")


def p50_p95(values: list[float]) -> str:
    ordered = sorted(values)
    return f"p50 {statistics.median(ordered):.2f} s, p95 {ordered[round(0.95 * (len(ordered) - 1))]:.2f} s"


def paired(baseline: list[bool], other: list[bool]) -> str:
    gained = sum(o and not b for b, o in zip(baseline, other, strict=True))
    lost = sum(b and not o for b, o in zip(baseline, other, strict=True))
    p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
    return f"correct {sum(other)}/{len(other)} (gained {gained}, lost {lost}, p {p:.2g})"


def demo_workspace(folder: Path | None, *, adapter: bool = True) -> Workspace:
    """`folder`'s workspace, else a fresh demo one; indexed, and with a short LoRA adapter if it has none."""
    if folder is None:
        folder = Path(tempfile.mkdtemp()) / "demo"
        create_demo_workspace(folder)
    workspace = Workspace.load(folder)
    if not workspace.index_dir.exists():
        from journey.knowledge import build_index

        build_index(workspace, progress=False)
    if adapter and not (workspace.adapter_dir / "adapter_config.json").is_file():
        from journey.finetune import finetune

        finetune(workspace, max_steps=4, progress=False)
    return workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=12)
    parser.add_argument("--precision", default="int4", choices=["int4", "int8", "fp32"])
    parser.add_argument("--threads", type=int, help="torch's (and ONNX Runtime's) intra-op threads")
    parser.add_argument("--workspace", type=Path, help="an existing demo workspace (default: a fresh one)")
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--variants", help="comma-separated, e.g. 'transformers fp32,llamacpp f16' (default: all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    workspace = demo_workspace(args.workspace, adapter="finetuned+augmented" in args.setups)
    items = [i for i in load_evalset(workspace.eval_path).items if not i.escalate and i.facts][: args.questions]
    variants = ["transformers fp32", "transformers auto", f"onnx {args.precision}", "llamacpp f16"]
    if args.variants:
        variants = args.variants.split(",")
    print(
        f"{len(items)} questions, {torch.get_num_threads()} thread(s); transformers auto: "
        f"{choose_precision('auto', job='generation')} + prompt reuse"
    )
    for setup in args.setups.split(","):
        print(f"{setup}:")
        baseline = None
        for variant in variants:
            timings = run(workspace, setup, items, variant)
            baseline = baseline or timings
            speed_up = statistics.median(baseline.answer) / statistics.median(timings.answer)
            print(
                f"  {variant:18} answer {p50_p95(timings.answer)} (x{speed_up:.1f}) · first piece "
                f"{p50_p95(timings.first)} · {paired(baseline.correct, timings.correct)}",
                flush=True,
            )


if __name__ == "__main__":
    main()
