"""Grounded facts on vs off: correct share, ungrounded facts and answer time, same model, same questions.

Both passes run `journey evaluate`'s own runner in one process on the first questions of the
demo eval set with the real default model (SmolLM2-135M-Instruct) as-is plus knowledge (the
`augmented` set-up, which needs no fine-tune), `model.grounded_facts` false then true. The
passes are interleaved a batch at a time so that a machine whose load drifts weighs on both
alike. The demo has no development split and nothing is tuned here: the processor has no knob.
Ungrounded facts are evaluation's (journey/facts.py): prices, amounts, dates, codes and e-mails
of a given answer found in neither the question, the context nor the reference.

Run: .venv/bin/python benchmarks/bench_grounding.py [--questions 40] [--setups augmented] [--threads N]
(--threads 1 on a machine other processes keep busy: torch's default threads spin against them; with
them a first attempt here took 440 s for its one warm-up answer.)
"""

from __future__ import annotations

import argparse
import dataclasses

import torch
from demo_bench import warm_demo
from rich.console import Console

from journey.evaluate.results import Results
from journey.evaluate.runner import evaluate
from journey.facts import checkable_facts
from journey.workspace import Workspace

MODES = (("off", False), ("on", True))


def with_grounding(workspace: Workspace, grounded: bool) -> Workspace:
    model = workspace.settings.model.model_copy(update={"grounded_facts": grounded})
    return dataclasses.replace(workspace, settings=workspace.settings.model_copy(update={"model": model}))


def figures(results: Results, setup: str) -> dict[str, float]:
    """Correct share, answers with an ungrounded fact, ungrounded among checkable facts, seconds answering."""
    scored = results.scored[setup]
    given = [(record, s) for _, record, s in scored if not s.handed_over]
    checkable = sum(len(checkable_facts(record.answer)) for record, _ in given)
    ungrounded = sum(len(s.hallucinated) for _, s in given)
    return {
        "correct": sum(s.correct for _, _, s in scored) / len(scored),
        "answers_ungrounded": sum(bool(s.hallucinated) for _, s in given) / len(given) if given else 0.0,
        "facts_ungrounded": ungrounded / checkable if checkable else 0.0,
        "facts": checkable,
        "seconds": sum(record.wall_s for _, record, _ in scored),
        "n": len(scored),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--setups", default="augmented", help="comma-separated set-ups of the base model")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    setups = args.setups.split(",")
    console = Console(stderr=True)
    with warm_demo(setups, args.threads, console) as workspace:
        step = workspace.settings.model.batch_size
        for limit in [*range(step, args.questions, step), args.questions]:  # interleaved, a batch at a time
            results = {
                label: evaluate(with_grounding(workspace, grounded), setups, console=console, limit=limit, run_id=label)
                for label, grounded in MODES
            }
            report(results, setups, limit, f"model {workspace.settings.model.base}, batch size {step}")


def report(results: dict[str, Results], setups: list[str], questions: int, model: str) -> None:
    """Print the on/off table for the first `questions` (after each round, so a stopped run still says something)."""
    print(f"{questions} demo eval questions, {torch.get_num_threads()} torch thread(s), {model}", flush=True)
    header = f"{'set-up':<12}{'grounded':>9}{'correct':>9}{'answers w/ ungrounded':>23}{'ungrounded facts':>18}"
    print(header + f"{'s/question':>12}")
    for setup in setups:
        rows = {label: figures(results[label], setup) for label, _ in MODES}
        for label, row in rows.items():
            print(
                f"{setup:<12}{label:>9}{row['correct']:>9.1%}{row['answers_ungrounded']:>23.1%}"
                f"{row['facts_ungrounded']:>11.1%} of {row['facts']:<4}{row['seconds'] / row['n']:>12.2f}"
            )
        print(f"{setup:<12} answer time on/off: x{rows['on']['seconds'] / rows['off']['seconds']:.2f}", flush=True)


if __name__ == "__main__":
    main()
