"""The live report's figures as PNG bytes (matplotlib's object API, as evaluate/plots.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from journey.evaluate.figures import png
from journey.traffic import Kpis, LiveTraffic, Share

if TYPE_CHECKING:
    from journey.evaluate.live import Prediction


def _error_bars(shares: list[Share]) -> tuple[list[float], np.ndarray]:
    """Values (percent) and asymmetric error bars of shares; a share of nothing is drawn as NaN."""
    values, low, high = [], [], []
    for share in shares:
        interval = share.interval()
        value = share.value
        values.append(np.nan if value is None else 100 * value)
        low.append(0.0 if interval is None else 100 * (value - interval[0]))
        high.append(0.0 if interval is None else 100 * (interval[1] - value))
    return values, np.array([low, high])


def resolved_per_day(traffic: LiveTraffic) -> bytes:
    figure = Figure(figsize=(9, 3.8), layout="tight")
    axes = figure.subplots()
    days = traffic.day_names
    for setup in traffic.setups:
        shares = [traffic.days.get((setup, day)) for day in days]
        values, errors = _error_bars([kpis.resolved_by_bot if kpis else Share() for kpis in shares])
        axes.errorbar(days, values, yerr=errors, marker="o", capsize=3, label=setup)
    axes.set_ylabel("resolved by the bot, %")
    axes.set_ylim(0, 100)
    axes.set_title("Resolved by the bot per day (95% Wilson intervals)")
    axes.tick_params(axis="x", rotation=30)
    axes.legend(fontsize="small")
    return png(figure)


def live_vs_predicted(traffic: LiveTraffic, predictions: dict[str, Prediction]) -> bytes:
    figure = Figure(figsize=(9, 3.8), layout="tight")
    panels = figure.subplots(1, 2)
    setups = traffic.by_setup()
    names = list(setups)
    positions = np.arange(len(names))
    for axes, (label, live, predicted) in zip(
        panels,
        [
            ("resolved by the bot, %", [k.resolved_by_bot for k in setups.values()], "resolved_by_bot"),
            ("CSAT (share of 4–5), %", [k.csat for k in setups.values()], "satisfaction"),
        ],
        strict=True,
    ):
        values, errors = _error_bars(live)
        axes.bar(positions - 0.2, values, 0.4, yerr=errors, capsize=3, label="live")
        guesses = [100 * getattr(predictions[n], predicted) if n in predictions else np.nan for n in names]
        axes.bar(positions + 0.2, guesses, 0.4, hatch="//", alpha=0.6, label="predicted (simulation)")
        axes.set_xticks(positions, names, rotation=20)
        axes.set_ylim(0, 100)
        axes.set_title(label)
        axes.legend(fontsize="small")
    return png(figure)


def handover_reasons(traffic: LiveTraffic) -> bytes:
    figure = Figure(figsize=(9, 3.5), layout="tight")
    axes = figure.subplots()
    counts = {(setup, label): n for (setup, by, label), n in traffic.handovers_by_setup().items() if by == "reason"}
    reasons = sorted({label for _, label in counts})
    width = 0.8 / max(len(traffic.setups), 1)
    positions = np.arange(len(reasons))
    for i, setup in enumerate(traffic.setups):
        heights = [counts.get((setup, reason), 0) for reason in reasons]
        axes.bar(positions + i * width, heights, width, label=setup)
    axes.set_xticks(positions + width * (len(traffic.setups) - 1) / 2, reasons, rotation=15)
    axes.set_ylabel("conversations handed over")
    axes.set_title("Hand-overs by reason")
    if traffic.setups:
        axes.legend(fontsize="small")
    return png(figure)


def handover_rate_per_day(traffic: LiveTraffic) -> bytes:
    """Two panels, by reason and by team: per day, the share of a set-up's conversations handed over for each."""
    figure = Figure(figsize=(9, 3.8), layout="tight")
    days = traffic.day_names
    for axes, by in zip(figure.subplots(1, 2, sharey=True), ("reason", "team"), strict=True):
        lines = sorted({(count.setup, count.label) for count in traffic.handovers if count.by == by})
        handed = {(c.setup, c.label, c.day): c.conversations for c in traffic.handovers if c.by == by}
        for setup, label in lines:
            started = [traffic.days.get((setup, day), Kpis()).conversations for day in days]
            values, errors = _error_bars(
                [Share(handed.get((setup, label, day), 0), n) for day, n in zip(days, started, strict=True)]
            )
            name = label if len(traffic.setups) == 1 else f"{setup}: {label}"
            axes.errorbar(days, values, yerr=errors, marker="o", capsize=3, label=name)
        axes.set_title(f"by {by} (95% Wilson intervals)")
        axes.tick_params(axis="x", rotation=30)
        if lines:
            axes.legend(fontsize="small")
    figure.axes[0].set_ylabel("handed over, % of the day's conversations")
    figure.axes[0].set_ylim(0, 100)
    return png(figure)
