"""`journey demo`: the whole journey on a demo company, end to end — the README's main command.

create the workspace → index → evaluate as-is and augmented → fine-tune → evaluate
finetuned and finetuned+augmented → train from scratch → evaluate scratch → freshness
test → report, then the journey table. A second run reuses what the first finished:
the index is incremental, a finished adapter or model is kept (unless `--retrain` or it
was made with other demo settings), and answers already in the run are not recomputed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from sqlalchemy import create_engine, text

from journey.demo import DEFAULT_COMPANY, demo_company
from journey.errors import UserError
from journey.evaluate.freshness import FreshnessProbe, load_freshness, run_freshness
from journey.evaluate.report import Report, write_report
from journey.evaluate.runner import evaluate
from journey.evaluate.runs import find_run
from journey.evaluate.tables import pct, to_rich
from journey.records import stage_records
from journey.workspace import CONFIG_NAME, Workspace

if TYPE_CHECKING:
    from journey.demo.writer import PriceProbe


@dataclass(frozen=True)
class DemoPlan:
    """How much of everything the demo does; the stages' keyword arguments are also how a rerun
    tells whether an existing adapter or model was made with this plan."""

    run_id: str
    questions: int  # the first N questions of the eval set
    finetune: dict[str, int]
    train: dict[str, int]
    minutes: float  # the whole demo's time budget: the training stages get what evaluation leaves


# Sized for 2 CPU cores: the default took 17.8-20.8 min on a Xeon with AMX as the machine's speed drifted.
# --quick asks 12 questions (still every category of the eval set) and fine-tunes 2 steps: a smoke run of
# every stage, not a measurement. On a slower machine the training stages are cut to fit `minutes`
# (Budget), never the evaluation.
DEFAULT = DemoPlan(
    "demo", 60, finetune={"max_steps": 40}, train={"max_steps": 300, "instruction_steps": 10}, minutes=25
)
QUICK = DemoPlan(
    "demo-quick", 12, finetune={"max_steps": 2}, train={"max_steps": 30, "instruction_steps": 10}, minutes=5
)


@dataclass
class Budget:
    """The demo's time budget, shared out as it goes: the first evaluation measures how long answering takes
    on this machine, the stages still to come are reserved from it, and each training stage may use a share
    of what is left (`journey finetune/train --time-budget`), so a slow CPU gets fewer steps, not hours."""

    seconds: float
    started: float = field(default_factory=time.perf_counter)
    evaluation_s: float = 0.0  # the first evaluation's two set-ups: the unit the later evaluations are priced in

    # Later work in units of that first evaluation: two fine-tuned set-ups (≈1), scratch (≈0.3), freshness (≈0.2).
    AFTER_FINETUNE = 1.5
    AFTER_TRAIN = 0.5
    FINETUNE_SHARE = 0.7  # of the training time left, the rest goes to training from scratch
    RESERVE_S = 30.0  # report, process start-ups
    MINIMUM_S = 30.0  # a training stage always gets this long, however late

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.started)

    def for_finetune(self) -> float:
        spare = self.left() - self.RESERVE_S - (self.AFTER_FINETUNE + self.AFTER_TRAIN) * self.evaluation_s
        return max(self.MINIMUM_S, self.FINETUNE_SHARE * spare)

    def for_train(self) -> float:
        return max(self.MINIMUM_S, self.left() - self.RESERVE_S - self.AFTER_TRAIN * self.evaluation_s)


def demo_directory(company: str) -> Path:
    """Where `journey demo --company NAME` keeps its workspace unless told: one folder per company."""
    return Path("demo-workspace" if company == DEFAULT_COMPANY else f"demo-workspace-{company}")


def ensure_demo_workspace(console: Console, directory: Path, company: str = DEFAULT_COMPANY) -> Workspace:
    """Create the demo workspace of `company` once; later runs reuse it (refused if it holds another company)."""
    demo = demo_company(company)
    if not (directory / CONFIG_NAME).is_file():
        from journey.demo import create_demo_workspace

        console.print(f"Creating the demo company {demo.name} in [bold]{directory}[/] …")
        create_demo_workspace(directory, company=company)
    workspace = Workspace.load(directory)
    if workspace.settings.project.name != demo.name:
        raise UserError(
            f"{directory} holds the workspace of {workspace.settings.project.name}, not of {demo.name}; "
            f"choose another --dir for --company {company}."
        )
    return workspace


def run_demo(
    console: Console,
    directory: Path,
    *,
    company: str = DEFAULT_COMPANY,
    quick: bool = False,
    retrain: bool = False,
) -> Report:
    """Run every stage of the journey on a demo company's workspace and print the journey table."""
    plan = QUICK if quick else DEFAULT
    budget = Budget(plan.minutes * 60)
    workspace = ensure_demo_workspace(console, directory, company)
    console.print(f"Time budget: {plan.minutes:g} min; the training stages get what evaluation leaves of it.")

    def evaluate_setups(setups: list[str]) -> float:
        _heading(console, f"evaluate {', '.join(setups)}")
        started = time.perf_counter()
        results = evaluate(workspace, setups, console=console, limit=plan.questions, run_id=plan.run_id)
        for setup in setups:
            overall = results.metrics[setup].overall
            console.print(
                f"{setup:<22} {pct(overall.correct)} correct, {pct(overall.resolved_by_bot)} resolved by the bot",
                highlight=False,
            )
        return time.perf_counter() - started

    _heading(console, "index")
    index_stage(console, workspace)
    budget.evaluation_s = evaluate_setups(["as-is", "augmented"])
    _heading(console, "fine-tune")
    if finetune_stage(console, workspace, plan, budget, retrain=retrain):
        evaluate_setups(["finetuned", "finetuned+augmented"])
    _heading(console, "train from scratch")
    if train_stage(console, workspace, plan, budget, retrain=retrain):
        evaluate_setups(["scratch"])
    _heading(console, "freshness test")
    freshness_stage(console, workspace, demo_company(company).probe)
    _heading(console, "report")
    report = write_report(workspace, find_run(workspace, plan.run_id))
    console.print(to_rich(report.journey))
    for stage, record in stage_records(workspace).items():
        if record.budget_limited:  # its detail says by how much
            console.print(f"[yellow]{stage}: {record.detail}[/]", highlight=False)
    console.print(f"Report: [bold]{report.html_path}[/]\nSummary: [bold]{report.markdown_path}[/]")
    spent = plan.minutes - budget.left() / 60
    console.print(f"The demo took {spent:.1f} min (budget {plan.minutes:g} min).")
    return report


def index_stage(console: Console, workspace: Workspace) -> None:
    """Bring the index up to date (build_index records its cost when it did embedding work)."""
    from journey.knowledge import build_index

    console.print(build_index(workspace).summary(), highlight=False)


def finetune_stage(console: Console, workspace: Workspace, plan: DemoPlan, budget: Budget, *, retrain: bool) -> bool:
    """Fine-tune unless an adapter made with this plan exists; False when fine-tuning is not available."""
    output = workspace.adapter_dir
    return _train_once(console, workspace, "finetune", output, plan.finetune, budget.for_finetune, retrain=retrain)


def train_stage(console: Console, workspace: Workspace, plan: DemoPlan, budget: Budget, *, retrain: bool) -> bool:
    """Train from scratch unless a model made with this plan exists; False when training is not available."""
    output = workspace.scratch_model_dir
    return _train_once(console, workspace, "train", output, plan.train, budget.for_train, retrain=retrain)


def _train_once(
    console: Console,
    workspace: Workspace,
    stage: str,
    output: Path,
    arguments: dict[str, int],
    seconds: Callable[[], float],
    *,
    retrain: bool,
) -> bool:
    """Run `journey <stage> --time-budget` unless its output can be reused; it writes the StageRecord the cost
    step reads and this check compares. `seconds()` is the stage's share of the demo's budget, asked only when
    the stage runs.

    Each training stage runs in its own process, as `accelerate launch` would run it: the
    accelerate state of one stage cannot leak into the next, and its memory is returned.
    """
    if importlib.util.find_spec(f"journey.{stage}.run") is None:
        console.print(f"[yellow]skipped: journey.{stage} not available yet[/]")
        return False
    previous = stage_records(workspace).get(stage)
    same_plan = previous is not None and all(previous.settings.get(k) == v for k, v in arguments.items())
    if output.is_dir() and same_plan and not retrain:
        console.print(f"reusing {output} ({previous.detail}); --retrain to redo it")
        return True
    minutes = seconds() / 60
    console.print(f"{stage}: up to {minutes:.1f} min of the demo's budget; fewer steps if this machine needs it")
    options = [part for key, value in arguments.items() for part in (f"--{key.replace('_', '-')}", str(value))]
    options += ["--time-budget", f"{minutes:.2f}"]
    command = [sys.executable, "-m", "journey", stage, *options, "--workspace", str(workspace.root)]
    if subprocess.run(command, check=False).returncode != 0:
        raise UserError(f"`journey {stage}` failed (see above); the demo stops here. Rerun `journey demo` to resume.")
    return True


def freshness_stage(console: Console, workspace: Workspace, probe: PriceProbe) -> None:
    """Change a catalogue price and see which set-ups answer the new one (skipped if already measured)."""
    from journey.assistant import available_setups

    setups = [s for s in available_setups(workspace) if s != "as-is"]
    done = load_freshness(workspace)
    if done is not None and set(setups) <= set(done.answers):
        console.print("reusing the freshness test already measured")
        return
    result = run_freshness(workspace, demo_probe(workspace, probe), setups)
    for setup, answer in result.answers.items():
        console.print(f"{setup:<22} {answer.verdict}", highlight=False)


def demo_probe(workspace: Workspace, probe: PriceProbe) -> FreshnessProbe:
    """Raise the price of the company's first catalogue row (a product, a tariff) by 10.00."""
    engine = create_engine(workspace.database_url(probe.database))
    query = f"SELECT {probe.key_column}, {probe.name_column}, {probe.price_column} FROM {probe.table}"
    with engine.connect() as connection:
        key, name, price = connection.execute(text(f"{query} ORDER BY {probe.key_column}")).first()
    engine.dispose()
    new_price = round(price + 10, 2)
    return FreshnessProbe(
        database=probe.database,
        table=probe.table,
        key_column=probe.key_column,
        key=key,
        column=probe.price_column,
        old_value=price,
        new_value=new_price,
        question=probe.question.format(name=name),
        old_fact=f"{price:.2f}",
        new_fact=f"{new_price:.2f}",
    )


def _heading(console: Console, title: str) -> None:
    console.rule(f"[bold]{title}")
