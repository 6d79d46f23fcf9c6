"""The ONNX Runtime GenAI backend vs transformers fp32, same run, same questions, the embedded SmolLM2.

For the as-is and augmented set-ups of the demo workspace: each answer timed alone, as a customer
waits for it (p50/p95), the first streamed piece, and whether the answer holds every reference fact
(paired on the same questions, exact McNemar). Questions are the first N non-escalation ones of the
demo eval set: this measures, it tunes nothing.

Run: .venv/bin/python benchmarks/bench_onnx.py [--questions 20] [--precision int4|int8|fp32]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from scipy.stats import binomtest

from journey.assistant import load_assistant
from journey.demo import create_demo_workspace
from journey.evaluate.evalset import load_evalset
from journey.facts import contains_fact
from journey.knowledge import build_index
from journey.workspace import Workspace


def run(workspace: Workspace, setup: str, items: list) -> tuple[list[float], list[float], list[bool]]:
    """Per question: answer seconds, seconds to the first streamed piece, correct."""
    assistant = load_assistant(workspace, setup)
    assistant.answer(items[0].question)  # warm-up
    seconds, first, correct = [], [], []
    for item in items:
        reply = assistant.answer(item.question)
        seconds.append(reply.latency_s)
        correct.append(not reply.handed_over and all(contains_fact(reply.answer, f) for f in item.facts))
        start = time.perf_counter()
        pieces = iter(assistant.stream(item.question))
        next(pieces)
        first.append(time.perf_counter() - start)
        for _ in pieces:  # to the end: an abandoned stream would still hold the model
            pass
    return seconds, first, correct


def p50_p95(values: list[float]) -> str:
    ordered = sorted(values)
    return f"p50 {statistics.median(ordered):.2f} s, p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--precision", default="int4", choices=["int4", "int8", "fp32"])
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp()) / "demo"
    create_demo_workspace(root)
    workspace = Workspace.load(root)
    build_index(workspace, progress=False)
    items = [i for i in load_evalset(workspace.eval_path).items if not i.escalate and i.facts][: args.questions]
    print(f"{len(items)} questions, torch threads {torch.get_num_threads()}, ONNX {args.precision}")
    for setup in ("as-is", "augmented"):
        results = {}
        for backend in ("transformers", "onnx"):
            workspace.settings.model.backend = backend
            workspace.settings.model.onnx_precision = args.precision
            results[backend] = run(workspace, setup, items)
        (hf_s, hf_first, hf_ok), (ort_s, ort_first, ort_ok) = results["transformers"], results["onnx"]
        gained = sum(o and not h for h, o in zip(hf_ok, ort_ok, strict=True))
        lost = sum(h and not o for h, o in zip(hf_ok, ort_ok, strict=True))
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        print(f"{setup}:")
        print(f"  transformers fp32  {p50_p95(hf_s)} · first piece p50 {statistics.median(hf_first):.2f} s")
        ort_first_p50 = statistics.median(ort_first)
        print(f"  onnx {args.precision:4}         {p50_p95(ort_s)} · first piece p50 {ort_first_p50:.2f} s")
        print(f"  answer p50 x{statistics.median(hf_s) / statistics.median(ort_s):.1f} faster")
        n = len(items)
        print(f"  correct {sum(hf_ok)}/{n} → {sum(ort_ok)}/{n} (gained {gained}, lost {lost}, p {p:.2g})")


if __name__ == "__main__":
    main()
