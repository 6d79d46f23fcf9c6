"""The live report's figures as PNG bytes (matplotlib's object API, as evaluate/plots.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure

from journey.evaluate.plots import _png
from journey.traffic import LiveTraffic, Share

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
    return _png(figure)


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
    return _png(figure)


def handover_reasons(traffic: LiveTraffic) -> bytes:
    figure = Figure(figsize=(9, 3.5), layout="tight")
    axes = figure.subplots()
    counts = [count for count in traffic.handovers if count.by == "reason"]
    reasons = sorted({count.label for count in counts})
    width = 0.8 / max(len(traffic.setups), 1)
    positions = np.arange(len(reasons))
    for i, setup in enumerate(traffic.setups):
        per = {count.label: count.conversations for count in counts if count.setup == setup}
        axes.bar(positions + i * width, [per.get(reason, 0) for reason in reasons], width, label=setup)
    axes.set_xticks(positions + width * (len(traffic.setups) - 1) / 2, reasons, rotation=15)
    axes.set_ylabel("conversations handed over")
    axes.set_title("Hand-overs by reason")
    if traffic.setups:
        axes.legend(fontsize="small")
    return _png(figure)
