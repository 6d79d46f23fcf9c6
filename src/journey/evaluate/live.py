"""`journey report --live`: the journey table measured on served traffic, beside the simulation's prediction.

The KPIs come from the app database as sums (journey/traffic.py, computed by serve/analytics.py);
the prediction for each set-up is what the latest evaluation run's simulated support centre
says for it (evaluate/simulation.py). The page is written atomically to
`.journey/reports/live/report.html` (and `report.md`), every string escaped on the way out.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from journey.errors import UserError
from journey.evaluate.report import WrittenReport
from journey.evaluate.runs import evaluation_runs
from journey.evaluate.tables import TextTable, md_escape, pct, seconds, to_markdown
from journey.io import atomic_write_text
from journey.traffic import Kpis, LiveTraffic, Mean, Share
from journey.workspace import Workspace

LIVE_FOLDER = "live"


@dataclass(frozen=True)
class Prediction:
    """What the evaluation run's simulated centre predicts for one set-up."""

    resolved_by_bot: float
    handed_over: float  # customers who needed a human agent
    first_reply_s: float  # the bot's mean answer latency on the eval set
    resolution_min: float
    satisfaction: float
    agent_minutes: float  # per conversation: human share × mean handle time


@dataclass(frozen=True)
class Predictions:
    run: str | None
    by_setup: dict[str, Prediction]
    note: str


@dataclass(kw_only=True)
class LiveReport(WrittenReport):
    """The live report: served traffic's KPIs beside the simulation's predictions."""

    traffic: LiveTraffic
    predictions: Predictions


def load_predictions(workspace: Workspace) -> Predictions:
    """The latest evaluation run's simulated centre per set-up; none (with why) when there is no usable run."""
    runs = evaluation_runs(workspace)
    if not runs:
        return Predictions(None, {}, "no evaluation run: `journey evaluate` adds the simulation's prediction")
    from journey.evaluate.results import load_results  # scoring loads here, not with the light verbs

    try:
        results = load_results(workspace, runs[-1])
    except UserError as exc:
        return Predictions(runs[-1].id, {}, f"no prediction from run {runs[-1].id}: {exc}")
    handle = workspace.settings.simulation.handle_minutes
    by_setup = {}
    for setup in results.setups:
        sim = results.simulation[setup]
        latencies = [record.latency_s for _, record, _ in results.scored[setup]]
        by_setup[setup] = Prediction(
            resolved_by_bot=1 - sim.human_share,
            handed_over=sim.human_share,
            first_reply_s=sum(latencies) / len(latencies) if latencies else 0.0,
            resolution_min=sim.avg_response_min,
            satisfaction=sim.satisfaction,
            agent_minutes=sim.human_share * handle,
        )
    return Predictions(runs[-1].id, by_setup, f"predicted: the simulated centre of evaluation run {runs[-1].id}")


def share_cell(share: Share) -> str:
    """`62% (55–68%) of 120`: the share, its 95% Wilson interval and what it was measured on."""
    interval = share.interval()
    if interval is None:
        return "n/a"
    return f"{share.value:.0%} ({100 * interval[0]:.0f}–{interval[1]:.0%}) of {share.n}"


def mean_cell(mean: Mean, scale: float = 1.0) -> str:
    """A mean duration (seconds × scale) with the half-width of its 95% interval: `4.2 min ±0.3 min`."""
    if mean.value is None:
        return "n/a"
    interval = mean.interval()
    spread = f" ±{seconds((interval[1] - interval[0]) / 2 * scale)}" if interval else ""
    return f"{seconds(mean.value * scale)}{spread}"


def _predicted(value: str | None) -> str:
    return f"\npredicted {value}" if value else ""


def journey_table(traffic: LiveTraffic, predictions: Predictions) -> TextTable:
    """One row per set-up: the live KPIs with their intervals, each with the simulation's prediction under it."""
    table = TextTable(
        "The journey, measured on served traffic",
        [
            "set-up",
            "conversations",
            "resolved by bot",
            "handed over",
            "first reply: bot / human",
            "resolution: all / bot / human",
            "CSAT: all / bot-resolved / agent-handled",
            "agent time per conversation",
        ],
    )
    for setup, kpis in traffic.by_setup().items():
        p = predictions.by_setup.get(setup)
        table.rows.append(
            [
                setup,
                str(kpis.conversations),
                share_cell(kpis.resolved_by_bot) + _predicted(p and pct(p.resolved_by_bot)),
                share_cell(kpis.handed_over) + _predicted(p and pct(p.handed_over)),
                f"{mean_cell(kpis.first_reply_bot)} / {mean_cell(kpis.first_reply_human)}"
                + _predicted(p and f"bot {seconds(p.first_reply_s)}"),
                f"{mean_cell(kpis.resolution)} / {mean_cell(kpis.resolution_bot)} / {mean_cell(kpis.resolution_human)}"
                + _predicted(p and f"{p.resolution_min:.1f} min"),
                f"{share_cell(kpis.csat)} / {pct(kpis.csat_bot.value)} / {pct(kpis.csat_agent.value)}"
                + _predicted(p and pct(p.satisfaction)),
                _agent_time(kpis) + _predicted(p and f"{p.agent_minutes:.1f} min"),
            ]
        )
    window = f"since {traffic.since:%Y-%m-%d %H:%M} UTC" if traffic.since else "all traffic"
    table.notes += [
        f"{traffic.conversations} conversations ({window}) as of {traffic.as_of:%Y-%m-%d %H:%M} UTC, "
        "from the app database; in brackets the 95% interval (Wilson for shares), ± the 95% interval of a mean.",
        f"resolved by bot: of the conversations decided (handed over, or quiet for {traffic.reopen_hours:g} h), "
        "those never handed over whose last message is the bot's and with no answer rated down "
        "(serve.reopen_hours sets the window).",
        "first reply: customer → bot, hand-over → agent; resolution: first message → last bot answer, or → the "
        "agent's resolution; CSAT: share of 4–5 scores; agent time: claim → close, over all conversations.",
        predictions.note,
    ]
    return table


def _agent_time(kpis: Kpis) -> str:
    if not kpis.conversations:
        return "n/a"
    minutes = kpis.agent_seconds.total / 60
    return f"{minutes / kpis.conversations:.1f} min ({minutes:.0f} min over {kpis.agent_seconds.n} hand-overs)"


def days_table(traffic: LiveTraffic) -> TextTable:
    table = TextTable(
        "Per day (UTC)",
        ["set-up", "day", "conversations", "resolved by bot", "handed over", "first bot reply", "resolution", "CSAT"],
    )
    for (setup, day), kpis in sorted(traffic.days.items()):
        table.rows.append(
            [
                setup,
                day,
                str(kpis.conversations),
                share_cell(kpis.resolved_by_bot),
                share_cell(kpis.handed_over),
                mean_cell(kpis.first_reply_bot),
                mean_cell(kpis.resolution),
                share_cell(kpis.csat),
            ]
        )
    return table


def handovers_table(traffic: LiveTraffic) -> TextTable:
    table = TextTable("Hand-overs by reason and by team", ["set-up", "by", "reason or team", "conversations"])
    totals = traffic.by_setup()
    for (setup, by, label), handed in sorted(traffic.handovers_by_setup().items()):
        table.rows.append([setup, by, label, share_cell(Share(handed, totals[setup].conversations))])
    table.notes.append("Share of the set-up's conversations handed over for that reason, or to that team.")
    return table


def handover_days_table(traffic: LiveTraffic) -> TextTable:
    table = TextTable(
        "Hand-over rate by reason and by team, per day (UTC)", ["set-up", "day", "by", "reason or team", "rate"]
    )
    for count in sorted(traffic.handovers, key=lambda c: (c.setup, c.by, c.label, c.day)):
        share = Share(count.conversations, traffic.days[(count.setup, count.day)].conversations)
        table.rows.append([count.setup, count.day, count.by, count.label, share_cell(share)])
    table.notes.append(
        "Share of the conversations a set-up started that day handed over for that reason, or to that team."
    )
    return table


def build_live_report(workspace: Workspace, traffic: LiveTraffic) -> LiveReport:
    from journey.evaluate import live_plots

    predictions = load_predictions(workspace)
    tables = {
        "journey": journey_table(traffic, predictions),
        "handovers": handovers_table(traffic),
        "handover_days": handover_days_table(traffic),
        "days": days_table(traffic),
    }
    figures = {
        "Resolved by the bot, per day": live_plots.resolved_per_day(traffic),
        "Live against predicted": live_plots.live_vs_predicted(traffic, predictions.by_setup),
        "Hand-overs by reason": live_plots.handover_reasons(traffic),
        "Hand-over rate by reason and by team, per day": live_plots.handover_rate_per_day(traffic),
    }
    folder = workspace.reports_dir / LIVE_FOLDER
    return LiveReport(
        traffic=traffic,
        predictions=predictions,
        tables=tables,
        figures=figures,
        html_path=folder / "report.html",
        markdown_path=folder / "report.md",
    )


def write_live_report(workspace: Workspace, traffic: LiveTraffic) -> LiveReport:
    """Build the live report and write report.html and report.md under `.journey/reports/live/`."""
    report = build_live_report(workspace, traffic)
    atomic_write_text(report.html_path, render_html(report, workspace))
    atomic_write_text(report.markdown_path, render_markdown(report, workspace))
    return report


def _title(workspace: Workspace) -> str:
    return f"{workspace.settings.project.name}: the journey, measured live"


def _context(report: LiveReport, workspace: Workspace) -> list[str]:
    return [f"Workspace {workspace.root} · written {time.strftime('%Y-%m-%d %H:%M')}"]


def render_markdown(report: LiveReport, workspace: Workspace) -> str:
    parts = [f"# {md_escape(_title(workspace))}", ""]
    parts += [to_markdown(table) for table in report.tables.values()]
    parts += [f"- {md_escape(line)}" for line in _context(report, workspace)]
    parts.append(f"\nFigures: see {report.html_path.name} next to this file.\n")
    return "\n".join(parts)


def render_html(report: LiveReport, workspace: Workspace) -> str:
    """The self-contained page: the evaluation report's template (autoescaped), figures as base64 PNG."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(loader=PackageLoader("journey", "templates"), autoescape=select_autoescape(["html"]))
    return environment.get_template("report.html").render(
        title=_title(workspace),
        journey=report.journey,
        context=_context(report, workspace),
        figures=[(name, base64.b64encode(png).decode()) for name, png in report.figures.items()],
        sections=[table for name, table in report.tables.items() if name != "journey"],
    )
