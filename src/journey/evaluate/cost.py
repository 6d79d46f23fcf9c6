"""What each step cost here (measured), per 1,000 questions, and what it would cost at real sizes.

Measured: the wall-clock of every stage that ran (train, finetune, index), read from the
StageRecord each one wrote (journey/records.py, `stage_records`), and each set-up's
answering time in an evaluation run; priced at `cost.prices_per_hour[cost.hardware]`.
Estimated: FLOPs with the usual approximations — training ≈ 6·N·D (N parameters,
D tokens), a forward pass ≈ 2·N per token — and, for the extrapolation to real
model sizes, GPU hours = FLOPs / (peak × utilisation) at the GPUs' list prices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from journey.evaluate.runs import AnswerRecord, Run
from journey.evaluate.tables import TextTable, dollars, flops, seconds
from journey.records import STAGES, StageRecord
from journey.setups import Stage, in_journey_order, setup_def
from journey.workspace import Workspace

# Dense bf16 tensor-core peaks (vendor datasheets), keyed like the default price table.
PEAK_FLOPS = {"a10g": 125e12, "a100-80gb": 312e12, "h100": 989e12}
TRAIN_UTILISATION = 0.40  # model FLOPs utilisation of a well-tuned training job
INFERENCE_UTILISATION = 0.20  # batched serving; token-by-token decoding is memory-bound
SIZES = {"1B": 1e9, "8B": 8e9, "70B": 70e9}
TOKENS_PER_PARAMETER = 20  # compute-optimal pre-training data (Hoffmann et al., 2022)
LARGE_FINETUNE_TOKENS = 100e6  # a large support history: ~500k conversations of ~200 tokens


def price(workspace: Workspace, hardware: str | None = None) -> float | None:
    """Dollars per hour of `hardware` (default: `cost.hardware`), None when the price table lacks it."""
    settings = workspace.settings.cost
    return settings.prices_per_hour.get(hardware or settings.hardware)


def stage_dollars(workspace: Workspace, record: StageRecord) -> float | None:
    rate = price(workspace, record.hardware)
    return None if rate is None else record.seconds / 3600 * rate


@dataclass(frozen=True)
class InferenceCost:
    """One set-up's measured answering cost, scaled to 1,000 questions."""

    setup: str
    questions: int
    seconds_per_1k: float
    tokens_per_question: float
    flops_per_1k: float | None
    dollars_per_1k: float | None


def inference_costs(workspace: Workspace, run: Run) -> dict[str, InferenceCost]:
    """Per set-up: wall-clock, tokens and FLOPs (2·N per prompt and generated token) per 1,000 questions."""
    parameters = run.manifest().get("parameters", {})
    rate = price(workspace)
    by_setup: dict[str, list[AnswerRecord]] = {}
    for record in run.records():
        by_setup.setdefault(record.setup, []).append(record)
    costs = {}
    for setup in in_journey_order(by_setup):
        records = by_setup[setup]
        per_question = float(np.mean([r.wall_s for r in records]))
        tokens = float(np.mean([r.prompt_tokens + r.completion_tokens for r in records]))
        n = parameters.get(setup)
        costs[setup] = InferenceCost(
            setup=setup,
            questions=len(records),
            seconds_per_1k=1000 * per_question,
            tokens_per_question=tokens,
            flops_per_1k=2 * n * tokens * 1000 if n else None,
            dollars_per_1k=None if rate is None else 1000 * per_question / 3600 * rate,
        )
    return costs


def setup_cost(workspace: Workspace, setup: str, inference: InferenceCost | None, stages: dict) -> str:
    """The journey table's cost cell: per 1,000 questions, plus the one-off stages the set-up needs."""
    per_k = f"{dollars(inference.dollars_per_1k)}/1k q" if inference else "n/a"
    one_off = [stage_dollars(workspace, stages[s]) for s in setup_def(setup).stages if s in stages]
    known = [d for d in one_off if d is not None]
    return f"{per_k} + {dollars(sum(known))} once" if known else per_k


def stages_table(workspace: Workspace, stages: dict[Stage, StageRecord]) -> TextTable:
    table = TextTable(
        "Stages measured on this machine",
        ["stage", "wall-clock", "tokens", "parameters", "FLOPs (est.)", "cost", "detail"],
    )
    for stage in STAGES:
        record = stages.get(stage)
        if record is None:
            table.rows.append([stage, "did not run", "", "", "", "", ""])
            continue
        table.rows.append(
            [
                stage,
                seconds(record.seconds),
                f"{record.tokens:,}" if record.tokens else "n/a",
                f"{record.parameters:,}" if record.parameters else "n/a",
                flops(record.estimated_flops),
                f"{dollars(stage_dollars(workspace, record))} ({record.hardware})",
                record.detail,
            ]
        )
    table.notes.append("FLOPs: 6·N·D for training and fine-tuning, 2·N·D for embedding, unless the stage counted them.")
    return table


def inference_table(workspace: Workspace, costs: dict[str, InferenceCost]) -> TextTable:
    hardware = workspace.settings.cost.hardware
    table = TextTable(
        "Answering, per 1,000 questions (measured)",
        ["set-up", "wall-clock", "tokens/question", "FLOPs (est.)", f"cost ({hardware})"],
    )
    for cost in costs.values():
        table.rows.append(
            [
                cost.setup,
                seconds(cost.seconds_per_1k),
                f"{cost.tokens_per_question:,.0f}",
                flops(cost.flops_per_1k),
                dollars(cost.dollars_per_1k),
            ]
        )
    table.notes.append("Batched generation on this machine; FLOPs ≈ 2·N per prompt and generated token.")
    return table


def extrapolation_table(
    workspace: Workspace, *, tokens_per_question: float | None, finetune_tokens: int | None
) -> TextTable:
    """Compute and dollars at 1B/8B/70B parameters on the priced GPUs (formulas, not measurements)."""
    gpus = [g for g in PEAK_FLOPS if price(workspace, g) is not None]
    table = TextTable(
        "Extrapolation to real model sizes (estimates)",
        ["model", "step", "tokens", "FLOPs", *(f"{g} (${price(workspace, g):g}/h)" for g in gpus)],
    )
    for size, n in SIZES.items():
        steps: list[tuple[str, float | None, float, float]] = [
            ("train from scratch", n * TOKENS_PER_PARAMETER, 6.0, TRAIN_UTILISATION),
            ("fine-tune on this workspace's tickets", finetune_tokens, 6.0, TRAIN_UTILISATION),
            (f"fine-tune on {LARGE_FINETUNE_TOKENS:,.0f} tokens", LARGE_FINETUNE_TOKENS, 6.0, TRAIN_UTILISATION),
            (
                "answer 1,000 questions",
                tokens_per_question * 1000 if tokens_per_question else None,
                2.0,
                INFERENCE_UTILISATION,
            ),
        ]
        for step, tokens, factor, utilisation in steps:
            if not tokens:
                continue
            total = factor * n * tokens
            cells = []
            for gpu in gpus:
                hours = total / (PEAK_FLOPS[gpu] * utilisation) / 3600
                cells.append(f"{dollars(hours * price(workspace, gpu))} ({_hours(hours)} GPU-h)")
            table.rows.append([size, step, f"{tokens:,.3g}", flops(total), *cells])
    table.notes += [
        f"Training {TOKENS_PER_PARAMETER} tokens per parameter (compute-optimal); fine-tuning on the tokens measured "
        "here and on a large support history; answering with the measured tokens per question. Full fine-tuning "
        "is 6·N·D; LoRA skips the frozen weights' gradients (≈ 4·N·D), so its rows are an upper bound.",
        f"FLOPs: 6·N·D to train, 2·N per token to answer; GPU hours at {TRAIN_UTILISATION:.0%} of peak for training "
        f"and {INFERENCE_UTILISATION:.0%} for serving; peaks (dense bf16): "
        + ", ".join(f"{g} {p / 1e12:g} TFLOP/s" for g, p in PEAK_FLOPS.items())
        + ". Memory and multi-GPU overheads are not included.",
    ]
    return table


def _hours(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"
