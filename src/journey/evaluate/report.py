"""`journey report`: a self-contained HTML report (plots embedded) and a Markdown summary of a run.

Both open with the seed's journey table, measured; every string that came from a
user or a model is escaped on the way out.
"""

from __future__ import annotations

import base64
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from journey.evaluate.cost import InferenceCost, extrapolation_table, inference_costs, inference_table, stages_table
from journey.evaluate.freshness import load_freshness
from journey.evaluate.runs import Run, evaluation_runs, find_run
from journey.evaluate.tables import TextTable, md_escape, to_markdown
from journey.evaluate.tradeoffs import tradeoffs_table
from journey.io import atomic_write_text
from journey.records import StageRecord, stage_records
from journey.workspace import Workspace

if TYPE_CHECKING:
    from journey.evaluate.results import Results


@dataclass(kw_only=True)
class WrittenReport:
    """A report's tables and plots, and where its HTML and Markdown were written."""

    tables: dict[str, TextTable]
    figures: dict[str, bytes]
    html_path: Path
    markdown_path: Path

    @property
    def journey(self) -> TextTable:
        return self.tables["journey"]


@dataclass(kw_only=True)
class Report(WrittenReport):
    """An evaluation run's report."""

    results: Results


def cost_tables(workspace: Workspace, run_id: str | None = None) -> dict[str, TextTable]:
    """`journey cost`: the cost tables, with answering costs from the given (or latest) run if there is one."""
    has_run = run_id is not None or bool(evaluation_runs(workspace))
    costs = inference_costs(workspace, find_run(workspace, run_id)) if has_run else {}
    return _cost_tables(workspace, stage_records(workspace), costs)


def _cost_tables(
    workspace: Workspace, stages: dict[str, StageRecord], costs: dict[str, InferenceCost]
) -> dict[str, TextTable]:
    """Stages, answering cost per 1,000 questions (when measured), extrapolation and the seed's trade-offs."""
    widest = costs.get("augmented") or max(costs.values(), key=lambda c: c.tokens_per_question, default=None)
    finetune = stages.get("finetune")
    tables = {"stages": stages_table(workspace, stages)}
    if costs:
        tables["inference"] = inference_table(workspace, costs)
    tables["extrapolation"] = extrapolation_table(
        workspace,
        tokens_per_question=widest.tokens_per_question if widest else None,
        finetune_tokens=finetune.tokens if finetune else None,
    )
    tables["tradeoffs"] = tradeoffs_table(workspace, stages, load_freshness(workspace))
    return tables


def build_report(workspace: Workspace, run: Run) -> Report:
    """Score the run, simulate, cost it and draw the figures."""
    # Scoring and plotting (matplotlib) load here, not with `journey cost`, which shares this module.
    from journey.evaluate import plots
    from journey.evaluate.headline import (
        category_table,
        detail_table,
        examples_table,
        journey_table,
        reach_table,
        steps_table,
    )
    from journey.evaluate.results import load_results

    results = load_results(workspace, run)
    stages = stage_records(workspace)
    costs = inference_costs(workspace, run)
    tables = {
        "journey": journey_table(workspace, results),
        "steps": steps_table(results),
        "categories": category_table(results),
        "details": detail_table(results),
        **({"reach": reach} if (reach := reach_table(results)).rows else {}),  # when a set-up had knowledge
        **_cost_tables(workspace, stages, costs),
        "examples": examples_table(results),
    }
    figures = {
        "Correct answers by category": plots.accuracy_by_category(results),
        "Answer latency": plots.latency_distribution(results),
        "Simulated response time vs satisfaction": plots.response_vs_satisfaction(results),
        "Cost": plots.costs(workspace, costs, stages),
    }
    folder = workspace.reports_dir / run.id
    return Report(
        results=results,
        tables=tables,
        figures=figures,
        html_path=folder / "report.html",
        markdown_path=folder / "report.md",
    )


def write_report(workspace: Workspace, run: Run) -> Report:
    """Build the report of `run` and write report.html and report.md under `.journey/reports/<run>/`."""
    report = build_report(workspace, run)
    atomic_write_text(report.html_path, render_html(report, workspace))
    atomic_write_text(report.markdown_path, render_markdown(report, workspace))
    return report


def _context_lines(report: Report, workspace: Workspace) -> list[str]:
    results = report.results
    questions = len(results.evalset.items)
    return [
        f"Workspace {workspace.root} · run {results.run.id} · {time.strftime('%Y-%m-%d %H:%M')}",
        f"Eval file {results.evalset.path} ({questions} questions) · model {workspace.settings.model.base}",
        f"Machine: {platform.machine()} {platform.system()}, priced as '{workspace.settings.cost.hardware}'",
        *results.evalset.notes(),
    ]


def render_markdown(report: Report, workspace: Workspace) -> str:
    parts = [f"# {md_escape(workspace.settings.project.name)}: the journey, measured", ""]
    parts += [to_markdown(report.journey)]
    parts += [f"- {md_escape(line)}" for line in _context_lines(report, workspace)] + [""]
    parts += [to_markdown(table) for name, table in report.tables.items() if name != "journey"]
    parts.append(f"Figures: see {report.html_path.name} next to this file.\n")
    return "\n".join(parts)


def render_html(report: Report, workspace: Workspace) -> str:
    """The self-contained page (templates/report.html, autoescaped), figures embedded as base64 PNG."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(loader=PackageLoader("journey", "templates"), autoescape=select_autoescape(["html"]))
    return environment.get_template("report.html").render(
        title=f"{workspace.settings.project.name}: the journey, measured",
        journey=report.journey,
        context=_context_lines(report, workspace),
        figures=[(name, base64.b64encode(png).decode()) for name, png in report.figures.items()],
        sections=[table for name, table in report.tables.items() if name != "journey"],
    )
