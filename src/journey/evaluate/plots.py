"""The report's figures as PNG bytes (matplotlib's object API: no pyplot, no GUI backend)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from journey.evaluate.cost import InferenceCost, stage_dollars
from journey.evaluate.figures import png
from journey.evaluate.results import Results
from journey.evaluate.simulation import BASELINE
from journey.records import StageRecord
from journey.setups import seed_claims
from journey.workspace import Workspace


def accuracy_by_category(results: Results) -> bytes:
    categories = sorted({c for s in results.setups for c in results.metrics[s].categories})
    figure = Figure(figsize=(9, 4), layout="tight")
    axes = figure.subplots()
    width = 0.8 / max(len(results.setups), 1)
    positions = np.arange(len(categories))
    for i, setup in enumerate(results.setups):
        per = results.metrics[setup].categories
        values = [per[c].correct if c in per else 0 for c in categories]
        axes.bar(positions + i * width, values, width, label=setup)
    axes.set_xticks(positions + width * (len(results.setups) - 1) / 2, categories, rotation=20)
    axes.set_ylabel("share correct")
    axes.set_ylim(0, 1)
    axes.set_title("Correct answers by category")
    axes.legend(fontsize="small")
    return png(figure)


def latency_distribution(results: Results) -> bytes:
    figure = Figure(figsize=(9, 3.5), layout="tight")
    axes = figure.subplots()
    data = [[r.latency_s for _, r, _ in results.scored[s]] for s in results.setups]
    axes.boxplot(data, tick_labels=results.setups, showfliers=True)
    axes.set_ylabel("seconds per answer")
    axes.set_title("Answer latency (batched generation, this machine)")
    return png(figure)


def response_vs_satisfaction(results: Results) -> bytes:
    figure = Figure(figsize=(7, 4.5), layout="tight")
    axes = figure.subplots()
    for i, (name, sim) in enumerate(results.simulation.items()):
        marker = "s" if name == BASELINE else "o"
        point = (sim.avg_response_min, sim.satisfaction * 100)
        axes.scatter(*point, marker=marker, s=60)
        # alternate label positions so set-ups that land on the same spot stay readable
        axes.annotate(name, point, textcoords="offset points", xytext=(6, 6 if i % 2 else -12))
    # The seed's worked example, drawn for comparison and labelled as claims.
    claims = np.array(seed_claims())
    axes.scatter(
        claims[:, 0], claims[:, 1] * 100, facecolors="none", edgecolors="grey", label="seed's example (claimed)"
    )
    axes.set_xlabel("average response time, minutes (simulated)")
    axes.set_ylabel("satisfaction, % (simulated)")
    axes.set_title("Simulated support centre per set-up")
    axes.legend(fontsize="small")
    return png(figure)


def costs(workspace: Workspace, inference: dict[str, InferenceCost], stages: dict[str, StageRecord]) -> bytes:
    figure = Figure(figsize=(9, 3.5), layout="tight")
    left, right = figure.subplots(1, 2)
    names = list(inference)
    left.bar(names, [inference[n].seconds_per_1k / 60 for n in names])
    left.set_ylabel("minutes per 1,000 questions")
    left.set_title("Answering (measured)")
    left.tick_params(axis="x", rotation=20)
    stage_names = list(stages)
    right.bar(stage_names, [stages[s].seconds / 60 for s in stage_names], color="tab:orange")
    right.set_ylabel("minutes (one-off)")
    right.set_title("Stages (measured)")
    for position, stage_name in enumerate(stage_names):
        dollars = stage_dollars(workspace, stages[stage_name])
        if dollars is not None:
            right.annotate(f"${dollars:.3g}", (position, stages[stage_name].seconds / 60), ha="center", va="bottom")
    return png(figure)
