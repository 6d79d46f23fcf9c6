"""The augmentation-aware mix (RAFT) tuned on the development split: what each choice buys, never on eval.jsonl.

Each variant fine-tunes SmolLM2-135M-Instruct on the demo company's tickets for the same number of
LoRA steps, the development split held out (`finetune.dev_fraction`), then `journey evaluate --dev-split`
scores the finetuned+augmented set-up on those held-out tickets: correct on the answerable ones (every
fact of the agent's answer stated), the share of given answers with an ungrounded fact, hand-over
precision / recall, and how many answers said the `<transfer_to_human …>` action. The augmented set-up
(no fine-tune) answers the same tickets once, as the reference row.

    .venv/bin/python benchmarks/bench_raft.py [--steps 20] [--dev-fraction 0.2] [--variants NAME,...]
        [--workspace DIR]   # an indexed demo workspace to copy (default: a fresh `journey init --demo`)
        [--keep DIR]        # keep each variant's adapter, to evaluate the chosen one on eval.jsonl afterwards
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does: before torch loads

from rich.console import Console

from journey.evaluate.dev import ANSWER, DevResults, dev_table, score_dev
from journey.evaluate.tables import TextTable, pct, pct_interval, to_markdown, to_rich
from journey.finetune import finetune
from journey.workspace import Workspace

# name -> ([finetune] overrides, [knowledge] overrides); "before" is the default mix (hand-overs once,
# context on 50 %, the oracle dropped from 20 % of those); each other one changes one choice from it
VARIANTS: dict[str, tuple[dict, dict]] = {
    "before": ({}, {}),
    "handovers-x3": ({"handover_weight": 3}, {}),
    "handovers-x6": ({"handover_weight": 6}, {}),
    "no-oracle-drop": ({"oracle_drop_fraction": 0.0}, {}),
    "context-80": ({"augmented_fraction": 0.8}, {}),
    "top-k-2": ({}, {"top_k": 2}),
}
ANSWER_FIELDS = {"id", "setup", "question", "answer", "handed_over", "reason", "handover_signals"}


def variant_workspace(workspace: Workspace, args: argparse.Namespace, name: str) -> Workspace:
    """The workspace with the variant's settings (the knowledge ones shape training and answering alike)."""
    tuned, knowledge = VARIANTS[name]
    settings = workspace.settings
    common = {"max_steps": args.steps, "dev_fraction": args.dev_fraction, "eval_every": 10**6}
    finetune_settings = settings.finetune.model_copy(update=common | tuned)
    update = {"finetune": finetune_settings, "knowledge": settings.knowledge.model_copy(update=knowledge)}
    return dataclasses.replace(workspace, settings=settings.model_copy(update=update))


def row(name: str, dev: DevResults, setup: str, extra: list[str]) -> list[str]:
    metrics = dev.metrics[setup]
    answers = metrics.categories.get(ANSWER)
    overall = metrics.overall
    return [
        name,
        *extra,
        pct_interval(answers.correct, answers.n) if answers else "n/a",
        pct(overall.hallucination_rate),
        f"{pct(overall.handover_precision)} / {pct(overall.handover_recall)}",
        str(dev.actions(setup)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--dev-fraction", type=float, default=0.2)
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names of VARIANTS")
    parser.add_argument("--workspace", type=Path, default=None)
    parser.add_argument("--reference", default="augmented", help="set-up answering the split once, beside ('' none)")
    parser.add_argument("--keep", type=Path, default=None, help="copy each variant's adapter to KEEP/<variant>")
    parser.add_argument("--limit", type=int, default=None, help="only the first N development tickets (a smoke test)")
    args = parser.parse_args()
    console = Console(stderr=True)
    names = [n for n in args.variants.split(",") if n]
    table = TextTable(
        f"RAFT mix on the development split ({args.steps} LoRA steps each; finetuned+augmented)",
        ["choice", "minutes", "val loss", "correct on answerable", "ungrounded", "hand-over P / R", "actions said"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        if args.workspace:
            shutil.copytree(args.workspace, root, ignore=shutil.ignore_patterns("adapters", "runs", "checkpoints"))
        else:
            from journey.demo import create_demo_workspace
            from journey.knowledge import build_index

            create_demo_workspace(root)
            build_index(Workspace.load(root), progress=False)
        base = Workspace.load(root)
        for index, name in enumerate(names):
            workspace = variant_workspace(base, args, name)
            started = time.perf_counter()
            report = finetune(workspace, progress=False)
            minutes = (time.perf_counter() - started) / 60
            if args.keep:
                shutil.copytree(workspace.adapter_dir, args.keep / name, dirs_exist_ok=True)
            reference = [args.reference] if args.reference and index == 0 else []
            dev = score_dev(workspace, [*reference, "finetuned+augmented"], limit=args.limit)
            console.print(to_rich(dev_table(dev)))
            if args.keep:  # what each held-out ticket got, to see where the action was said
                lines = [r.model_dump_json(include=ANSWER_FIELDS) for r in dev.records]
                (args.keep / name / "dev-answers.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
            if reference:
                table.rows.append(row(f"{args.reference} (no fine-tune)", dev, args.reference, ["–", "–"]))
            val = f"{report.val_loss:.3f}" if report.val_loss is not None else "n/a"
            table.rows.append(row(name, dev, "finetuned+augmented", [f"{minutes:.1f}", val]))
            console.print(to_rich(table))
    table.notes.append(f"{len(dev.items)} held-out tickets; the same split for every variant (seed 0).")
    print(to_markdown(table))


if __name__ == "__main__":
    main()
