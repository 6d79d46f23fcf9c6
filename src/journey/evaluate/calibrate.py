"""`journey simulate`: the simulated support centre, and `--calibrate`: its settings fitted to served traffic.

What is fitted (journey/traffic.py's sums; the rest of [simulation] stays as set):
- `arrivals_per_hour`: conversations per day with traffic, over `hours` opening hours;
- `handle_minutes`, `handle_cv`: the mean and spread of the agents' claim → close times;
- `agents`: the fewest agents with which an M/M/c queue (Erlang C) of the customers the bot did not
  resolve waits no longer than the observed hand-over → claim time;
- `csat_bot_resolved`: the share of 4-5 scores of bot-resolved conversations;
- `csat_human_no_wait`, `csat_loss_per_minute`: the least-squares line of satisfied (a 4-5 score)
  on minutes to the agent's resolution, over agent-resolved conversations with a score (a line that rises
  with the wait is taken as flat at the satisfied share: a clamped slope would keep a wrong intercept).
The check replays the observed bot outcome mix (resolved / handed over / neither) through the
simulation with the current and the calibrated settings, against the observed KPIs.
journey.toml is never rewritten: the fitted lines are printed and written to a file to copy from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from journey.errors import UserError
from journey.evaluate.live import LIVE_FOLDER
from journey.evaluate.simulation import Outcome, SimulationResult, simulate
from journey.evaluate.tables import TextTable, minutes, pct
from journey.io import atomic_write_text
from journey.traffic import Kpis, LiveTraffic
from journey.workspace import SimulationSettings, Workspace, with_overrides

CALIBRATED_FILE = "calibrated-simulation.toml"
MIX_SIZE = 1000  # outcomes the observed mix is scaled to for the replay
MAX_AGENTS = 10_000
CHECK_CUSTOMERS = 20_000  # customers each check simulates at most: fewer days when arrivals are many


@dataclass(frozen=True)
class Calibration:
    old: SimulationSettings
    new: SimulationSettings
    fitted: dict[str, str]  # setting -> what it was fitted on
    kept: dict[str, str]  # setting -> why it was not fitted
    check: TextTable

    def changes(self) -> list[tuple[str, float, float]]:
        old, new = self.old.model_dump(), self.new.model_dump()
        return [(name, old[name], new[name]) for name in self.fitted]

    def toml(self) -> str:
        """The [simulation] lines to put in journey.toml."""
        return "[simulation]\n" + "".join(f"{name} = {_number(new)}\n" for name, _, new in self.changes())


def _number(value: float) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def calibrate(settings: SimulationSettings, traffic: LiveTraffic) -> Calibration:
    """Fit the simulation's arrival rate, handle time and satisfaction model to `traffic`."""
    total = traffic.total()
    if not total.conversations:
        raise UserError("No served conversations to calibrate the simulation on.")
    fitted: dict[str, str] = {}
    kept: dict[str, str] = {}
    values: dict[str, float] = {}
    days = len(traffic.day_names)
    values["arrivals_per_hour"] = total.conversations / (days * settings.hours)
    fitted["arrivals_per_hour"] = f"{total.conversations} conversations on {days} days of {settings.hours:g} h"
    handle = total.agent_seconds
    if handle.value and handle.std:
        values["handle_minutes"], values["handle_cv"] = handle.value / 60, handle.std / handle.value
        fitted["handle_minutes"] = fitted["handle_cv"] = f"{handle.n} closed hand-overs (claim → close)"
    else:
        kept["handle_minutes"] = kept["handle_cv"] = "fewer than two closed hand-overs"
    agents = _agents_for_wait(values["arrivals_per_hour"], total, values.get("handle_minutes", settings.handle_minutes))
    if agents:
        values["agents"] = agents
        fitted["agents"] = f"a mean wait for an agent of {total.wait_for_agent.value / 60:.1f} min (Erlang C)"
    else:
        kept["agents"] = "no claimed hand-over"
    if total.csat_bot.n:
        values["csat_bot_resolved"] = total.csat_bot.value
        fitted["csat_bot_resolved"] = f"{total.csat_bot.n} scores of bot-resolved conversations"
    else:
        kept["csat_bot_resolved"] = "no score of a bot-resolved conversation"
    by_wait = total.satisfaction_by_wait
    if line := by_wait.line():
        intercept, slope = line
        if slope > 0:  # satisfaction rising with the wait is noise, not a loss: the best flat line is the mean
            intercept, slope = by_wait.y / by_wait.n, 0.0
        values["csat_human_no_wait"] = min(1.0, max(0.0, intercept))
        values["csat_loss_per_minute"] = max(0.0, -slope)  # not -0.0
        fitted["csat_human_no_wait"] = fitted["csat_loss_per_minute"] = (
            f"{total.satisfaction_by_wait.n} scores of agent-resolved conversations against their wait"
        )
    else:
        kept["csat_human_no_wait"] = kept["csat_loss_per_minute"] = "no two agent-resolved waits with a score"
    new = with_overrides(settings, what="calibrated simulation", **values)
    return Calibration(settings, new, fitted, kept, check_table(settings, new, total))


def _agents_for_wait(arrivals_per_hour: float, total: Kpis, handle_minutes: float) -> int | None:
    """The fewest agents whose Erlang C mean wait is at most the observed one (None without an observed wait)."""
    if total.wait_for_agent.value is None:
        return None
    wait = total.wait_for_agent.value / 60
    human = 1 - (total.resolved_by_bot.value or 0.0)  # the simulation queues everyone the bot did not resolve
    load = arrivals_per_hour / 60 * human * handle_minutes  # offered load in erlangs
    blocking = 1.0  # Erlang B, built up one agent at a time (numerically stable)
    for agents in range(1, MAX_AGENTS + 1):
        blocking = load * blocking / (agents + load * blocking)
        if agents <= load:
            continue
        waiting = blocking / (1 - load / agents * (1 - blocking))  # Erlang C: P(a customer waits)
        if waiting * handle_minutes / (agents - load) <= wait:
            return agents
    return MAX_AGENTS


def observed_outcomes(total: Kpis) -> list[Outcome]:
    """The observed bot outcome mix, scaled to MIX_SIZE outcomes: resolved, handed over, or neither ("wrong")."""
    decided = total.resolved_by_bot.n or 1
    bot_minutes = (total.first_reply_bot.value or 0.0) / 60
    resolved = round(MIX_SIZE * total.resolved_by_bot.k / decided)
    handed = min(MIX_SIZE - resolved, round(MIX_SIZE * total.handed_over.k / decided))
    counts = {"resolved": resolved, "handover": handed, "wrong": MIX_SIZE - resolved - handed}
    return [Outcome(kind, bot_minutes) for kind, count in counts.items() for _ in range(count)]


def check_table(old: SimulationSettings, new: SimulationSettings, total: Kpis) -> TextTable:
    """Observed KPIs against the simulation's, with the current and the calibrated settings."""
    outcomes = observed_outcomes(total)
    before, after = (_check_run(settings, outcomes, name) for settings, name in ((old, "current"), (new, "calibrated")))
    resolution = total.resolution.value
    rows: list[tuple[str, float | None, float, float, str]] = [
        ("needed a human", total.handed_over.value, before.human_share, after.human_share, "pct"),
        (
            "time to resolution",
            None if resolution is None else resolution / 60,
            before.avg_response_min,
            after.avg_response_min,
            "min",
        ),
        ("satisfied (4–5)", total.csat.value, before.satisfaction, after.satisfaction, "pct"),
    ]
    table = TextTable(
        "The simulation against served traffic",
        ["KPI", "observed", "simulated, current settings", "simulated, calibrated", "error: current → calibrated"],
    )
    for name, seen, was, now, unit in rows:
        show = pct if unit == "pct" else minutes
        error = "n/a" if seen is None else f"{_signed(was - seen, unit)} → {_signed(now - seen, unit)}"
        table.rows.append([name, show(seen), show(was), show(now), error])
    table.notes.append(
        "Both simulations replay the observed bot outcome mix (resolved, handed over, neither) with the observed "
        f"bot reply time, over at most {CHECK_CUSTOMERS:,} simulated customers; error = simulated − observed."
    )
    return table


def _check_run(settings: SimulationSettings, outcomes: list[Outcome], name: str) -> SimulationResult:
    days = max(1, min(settings.days, round(CHECK_CUSTOMERS / (settings.arrivals_per_hour * settings.hours))))
    return simulate(settings.model_copy(update={"days": days}), outcomes, name=name)


def _signed(value: float, unit: str) -> str:
    return f"{100 * value:+.1f} points" if unit == "pct" else f"{value:+.1f} min"


def write_calibration(workspace: Workspace, calibration: Calibration) -> Path:
    """The calibrated [simulation] lines, written beside the live report for the user to copy into journey.toml."""
    path = workspace.reports_dir / LIVE_FOLDER / CALIBRATED_FILE
    header = "# Fitted by `journey simulate --calibrate`; copy into journey.toml's [simulation] section to use.\n"
    atomic_write_text(path, header + calibration.toml())
    return path


def simulation_table(results: dict[str, SimulationResult]) -> TextTable:
    """`journey simulate`: one row per simulated centre."""
    table = TextTable(
        "The simulated support centre",
        ["centre", "customers", "avg response", "p90 response", "satisfied", "needed a human", "agent utilisation"],
    )
    for name, sim in results.items():
        table.rows.append(
            [
                name,
                str(sim.customers),
                minutes(sim.avg_response_min),
                minutes(sim.p90_response_min),
                pct(sim.satisfaction),
                pct(sim.human_share),
                pct(sim.agent_utilisation),
            ]
        )
    return table
