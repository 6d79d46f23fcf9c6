"""The `journey` command line: one verb a step. Thin: parse, call, print.

Each verb imports what it uses when it runs (torch, transformers, LanceDB, FastAPI…), so
`--help`, usage mistakes and the light verbs start in a fraction of a second.
"""

from __future__ import annotations

import logging
import os
import shlex
import sys
import warnings
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from typer.core import TyperGroup

from journey.demo import COMPANIES as DEMO_COMPANIES
from journey.demo import DEFAULT_COMPANY as DEFAULT_DEMO
from journey.errors import UserError
from journey.setups import setup_names

try:  # typer >= 0.2x bundles its own copy of click; older ones raise click's own exceptions
    from typer._click.exceptions import ClickException, UsageError
except ImportError:
    from click import ClickException, UsageError

if TYPE_CHECKING:
    from journey.finetune import FinetuneReport
    from journey.finetune.preference import PreferenceReport
    from journey.traffic import LiveTraffic
    from journey.train import TrainReport
    from journey.workspace import Workspace

# How to continue a verb after Ctrl-C: add this flag, or run it again (it resumes by itself).
DEMO_NAMES = ", ".join(DEMO_COMPANIES)
RESUME_FLAG = {"finetune": "--resume", "train": "--resume"}
RESUMES_ON_RERUN = {"evaluate": ["--fresh"], "demo": []}  # the options to leave out of the rerun


class Interrupted(Exception):
    """Ctrl-C inside a verb, with the verb's name (None before one started)."""

    def __init__(self, verb: str | None) -> None:
        super().__init__(verb)
        self.verb = verb


class _Verbs(TyperGroup):
    """The group of verbs; Ctrl-C in one becomes `Interrupted`, so `main()` can say how to resume it."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted(ctx.invoked_subcommand) from None
        except UsageError as exc:
            if exc.ctx is None and ctx.invoked_subcommand:  # click's parser raises some (`--flag=x`) without one
                verb = self.get_command(ctx, ctx.invoked_subcommand)
                exc.ctx = verb.make_context(ctx.invoked_subcommand, [], parent=ctx, resilient_parsing=True)
            raise


app = typer.Typer(
    cls=_Verbs,
    help="Take a language model through the journey: as-is, augmented, fine-tuned, "
    "fine-tuned + augmented, from scratch — and measure what each step buys.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# Piped to a log, rich would wrap every table at 80 columns; a log viewer shows wide lines.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

WorkspaceOption = Annotated[
    Path | None, typer.Option("--workspace", "-w", help="Workspace folder (default: the current directory).")
]
SetupOption = Annotated[str, typer.Option("--setup", "-s", help=f"One of: {', '.join(setup_names())}.")]


def _workspace(path: Path | None) -> Workspace:
    from journey.workspace import Workspace

    return Workspace.load(path)


@app.callback()
def _configure(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show debug logs.")] = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Idle OpenMP threads sleep instead of spinning (set before torch loads): on cores shared with
    # other jobs, spinning threads steal each other's time — a fine-tune step measured 5-10x slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # PEFT still asks transformers for a renamed attribute; the user can do nothing about it.
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    demo: Annotated[
        str | None,
        typer.Option("--demo", metavar="NAME", help=f"Write a complete demo company instead: {DEMO_NAMES}."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty folder.")] = False,
) -> None:
    """Create a workspace: a commented journey.toml and empty folders, or a demo company."""
    try:
        if demo is not None:
            from journey.demo import create_demo_workspace

            create_demo_workspace(directory, company=demo, force=force)
            console.print(f'Demo workspace written to [bold]{directory}[/]. Next: journey ask -w {directory} "..."')
            return
        config = _write_template(directory, force=force)
    except OSError as exc:  # permission denied, a file where a folder should be, a full disk
        raise UserError(f"Could not write a workspace in {directory}: {exc.strerror or exc}.") from None
    console.print(f"Workspace written to [bold]{directory}[/]: edit {config}, add documents to knowledge/.")


def _write_template(directory: Path, *, force: bool) -> Path:
    """The commented journey.toml and the empty folders; returns the config's path."""
    from journey.io import atomic_write_text
    from journey.workspace import CONFIG_NAME

    config = directory / CONFIG_NAME
    if config.exists() and not force:
        raise UserError(f"{config} already exists (use --force to overwrite it).")
    for sub in ("knowledge", "data/corpus"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    atomic_write_text(config, resources.files("journey.templates").joinpath("journey.toml").read_text("utf-8"))
    return config


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The customer's question.")],
    setup: SetupOption = "as-is",
    workspace: WorkspaceOption = None,
) -> None:
    """Answer one question with a set-up and print the answer, its sources and its time."""
    from journey.assistant import load_assistant

    assistant = load_assistant(_workspace(workspace), setup)  # checks the set-up before loading torch
    from journey.assistant.render import print_reply

    print_reply(console, assistant.answer(question))


@app.command()
def chat(setup: SetupOption = "as-is", workspace: WorkspaceOption = None) -> None:
    """Chat in the terminal with a set-up; tokens stream in. /reset clears the history, /quit leaves."""
    from journey.assistant import load_assistant

    assistant = load_assistant(_workspace(workspace), setup)  # checks the set-up before loading torch
    from journey.assistant.render import run_chat

    run_chat(console, assistant)


@app.command()
def demo(
    company: Annotated[
        str, typer.Option("--company", help=f"Which demo company: {DEMO_NAMES}.", show_default=True)
    ] = DEFAULT_DEMO,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help=f"Where the demo workspace lives (default: demo-workspace for {DEFAULT_DEMO}, "
            "demo-workspace-NAME for another company).", show_default=False,
        ),
    ] = None,
    quick: Annotated[bool, typer.Option("--quick", help="Fewer questions and training steps (about 5 min).")] = False,
    retrain: Annotated[bool, typer.Option("--retrain", help="Fine-tune and train again even if done.")] = False,
) -> None:
    """Run the whole journey on a demo company: index, evaluate, fine-tune, train, report. Resumable."""
    from journey.demo_run import demo_directory, run_demo

    run_demo(console, directory or demo_directory(company), company=company, quick=quick, retrain=retrain)


TimeBudgetOption = Annotated[
    float | None,
    typer.Option(
        "--time-budget",
        help="Minutes this run may take: training stops early (saved as usual, reported) rather than overrun.",
        min=0.1,
    ),
]


def _say_budget(report: FinetuneReport | TrainReport | PreferenceReport) -> None:
    if report.budget_limited:
        console.print(
            f"[yellow]Stopped at step {report.steps} of {report.planned_steps} to stay within the time budget.[/]"
        )


@app.command()
def train(
    preset: Annotated[str | None, typer.Option(help="Model size: tiny (≈5M), small (≈30M) or base (≈120M).")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Optimizer steps (a small number: a quick run).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint.")] = False,
    instruction_steps: Annotated[
        int | None, typer.Option(help="Steps of the instruction stage on the tickets (0: none).")
    ] = None,
    time_budget: TimeBudgetOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Train a tokenizer and a small Llama model from scratch on data/corpus/ for the scratch set-up."""
    ws = _workspace(workspace)  # before torch loads: a missing workspace or corpus is said at once
    from journey.train.corpus import check_corpus

    check_corpus(ws)
    from journey.train import train as run_training
    from journey.training.loop import process_state

    report = run_training(
        ws,
        preset=preset,
        max_steps=max_steps,
        resume=resume,
        instruction_steps=instruction_steps,
        budget_s=time_budget * 60 if time_budget else None,
        instruction_stage=_instruction_stage,
    )
    if not process_state().is_main_process:  # under `accelerate launch`, one summary is enough
        return
    _say_budget(report)
    console.print(report.summary(), highlight=False)
    for name in report.not_utf8_files:
        err_console.print(f"[yellow]not UTF-8[/] (decoded with replacement characters): {name}", highlight=False)
    console.print(f"Model: [bold]{report.output}[/]   run summary: {report.run_dir / 'run.json'}")
    console.print(f'Next: journey ask --setup scratch -w {ws.root} "..."')


def _instruction_stage(workspace: Workspace, **options: Any) -> object:
    """`journey train`'s instruction stage: a full fine-tune on the tickets (journey.finetune, imported when it runs).

    The verb joins the two trainers: train and finetune are one layer and neither imports the other.
    """
    from journey.finetune import finetune

    return finetune(workspace, **options)


RunOption = Annotated[str | None, typer.Option("--run", help="Evaluation run id (default: the latest).")]


@app.command()
def evaluate(
    setups: Annotated[
        str | None, typer.Option("--setups", help="Comma-separated set-ups (default: evaluate.setups in journey.toml).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Run id to create or add to (default: resume the latest unfinished run, else new)."),
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start a new run even if one is unfinished.")] = False,
    dev_split: Annotated[
        bool,
        typer.Option(
            "--dev-split", help="Score on the tickets the adapter was not trained on instead (tune on these, not eval)."
        ),
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Answer data/eval.jsonl with each set-up; score, simulate the support centre and print the journey table."""
    from journey.evaluate.headline import journey_table
    from journey.evaluate.metrics import deciders_line
    from journey.evaluate.runner import evaluate as run_evaluation
    from journey.evaluate.tables import to_rich

    ws = _workspace(workspace)
    names = [s.strip() for s in setups.split(",") if s.strip()] if setups else ws.settings.evaluate.setups
    if dev_split:
        from journey.evaluate.dev import dev_table, score_dev

        dev = score_dev(ws, names, limit=limit)
        console.print(to_rich(dev_table(dev)))
        for name, metrics in dev.metrics.items():
            console.print(deciders_line(name, metrics.deciders), highlight=False)
        return
    results = run_evaluation(ws, names, console=console, limit=limit, run_id=run, fresh=fresh)
    console.print(to_rich(journey_table(ws, results)))

    for name, metrics in results.metrics.items():  # the hand-over rules compared on the same answers
        if metrics.deciders:
            console.print(deciders_line(name, metrics.deciders), highlight=False)
    console.print(f"Answers and summary in [bold]{results.run.folder}[/]. Next: journey report -w {ws.root}")


SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only conversations started on or after this UTC date or time.")
]


@app.command()
def report(
    run: RunOption = None,
    live: Annotated[
        bool, typer.Option("--live", help="Measure served traffic (the app database) instead, beside the prediction.")
    ] = False,
    since: SinceOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Write the HTML report (with plots) and the Markdown summary of an evaluation run, or of served traffic."""
    from journey.evaluate.runs import find_run

    ws = _workspace(workspace)
    if live:
        traffic = _served_traffic(ws, since)  # before scoring and plotting load: an empty database is said at once
        from journey.evaluate.live import write_live_report
        from journey.evaluate.tables import to_rich

        live_report = write_live_report(ws, traffic)
        console.print(to_rich(live_report.journey))
        console.print(f"Report: [bold]{live_report.html_path}[/]\nSummary: [bold]{live_report.markdown_path}[/]")
        return
    chosen = find_run(ws, run)  # before scoring and plotting load: no run is said at once
    from journey.evaluate.report import write_report
    from journey.evaluate.tables import to_rich

    written = write_report(ws, chosen)
    console.print(to_rich(written.journey))
    console.print(f"Report: [bold]{written.html_path}[/]\nSummary: [bold]{written.markdown_path}[/]")


def _served_traffic(ws: Workspace, since: str | None) -> LiveTraffic:
    """The app database's live KPIs since `since` (an ISO date or time, UTC unless it says otherwise)."""
    from datetime import UTC, datetime

    from journey.serve.analytics import workspace_traffic

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            raise UserError(f"--since {since!r}: give a date or time such as 2026-11-01 or 2026-11-01T09:00.") from None
        start = start if start.tzinfo else start.replace(tzinfo=UTC)
    traffic = workspace_traffic(ws, start)
    if not traffic.conversations:
        window = f" since {since}" if since else ""
        raise UserError(f"No conversations in the app database{window}: serve some with `journey serve` first.")
    return traffic


@app.command()
def simulate(
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Fit arrivals, handle time and satisfaction to served traffic.")
    ] = False,
    since: SinceOption = None,
    run: RunOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Simulate the support centre for an evaluation run's set-ups; --calibrate fits it to served traffic."""
    from journey.evaluate.tables import to_rich

    ws = _workspace(workspace)
    if not calibrate:
        from journey.evaluate.runs import find_run

        chosen = find_run(ws, run)
        from journey.evaluate.calibrate import simulation_table
        from journey.evaluate.results import load_results

        results = load_results(ws, chosen)
        console.print(to_rich(simulation_table(results.simulation)))
        for line in results.assumptions:
            console.print(f"- {line}", highlight=False)
        return
    traffic = _served_traffic(ws, since)
    from journey.evaluate import calibrate as calibration_module

    calibration = calibration_module.calibrate(ws.settings.simulation, traffic)
    for name, old, new in calibration.changes():
        console.print(f"{name}: {old:.4g} → [bold]{new:.4g}[/]  ({calibration.fitted[name]})", highlight=False)
    for name, why in calibration.kept.items():
        console.print(f"{name}: kept at {getattr(calibration.old, name):.4g} ({why})", highlight=False)
    console.print(to_rich(calibration.check))
    path = calibration_module.write_calibration(ws, calibration)
    console.print(escape(calibration.toml()), highlight=False)
    console.print(f"Written to [bold]{path}[/]: copy these lines into journey.toml's \\[simulation] section.")


@app.command()
def cost(run: RunOption = None, workspace: WorkspaceOption = None) -> None:
    """What each stage cost here, answering per 1,000 questions, and estimates at 1B/8B/70B parameters."""
    from journey.evaluate.report import cost_tables
    from journey.evaluate.tables import to_rich

    for table in cost_tables(_workspace(workspace), run_id=run).values():
        console.print(to_rich(table))


@app.command()
def serve(
    setup: SetupOption = "as-is",
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: serve.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: serve.port).", min=1, max=65535)] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Serve a set-up: OpenAI-compatible API (/v1), customer chat page (/) and agent inbox (/agent)."""
    ws = _workspace(workspace)  # before FastAPI and torch load: a missing workspace is said at once
    from journey.serve import run_server

    run_server(ws, setup, host=host, port=port)


@app.command()
def replay(
    url: Annotated[str | None, typer.Option(help="The running server (default: http://serve.host:serve.port).")] = None,
    conversations: Annotated[int, typer.Option(min=1, help="Simulated conversations.")] = 200,
    concurrency: Annotated[int, typer.Option(min=1, help="Customers at once.")] = 8,
    agent_delay: Annotated[float, typer.Option(min=0, help="Seconds an agent takes to claim a hand-over.")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed of the customers' ratings.")] = 0,
    questions: Annotated[
        Path | None,
        typer.Option(help="The customers' questions, in the eval file's format (default: data/eval.jsonl)."),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Drive a running `journey serve` with simulated customers (eval questions, rated by a documented rule)
    and agents (claim, reply with the reference answer, resolve), to try the live loop without people."""
    import asyncio
    import signal
    import time

    from journey.evaluate.evalset import load_evalset
    from journey.evaluate.replay import ReplayPlan, ReplayReport, run_replay

    ws = _workspace(workspace)
    settings = ws.settings.serve
    agent_key = os.environ.get(settings.agent_key_env)
    if not agent_key:
        raise UserError(f"Set {settings.agent_key_env} to the server's agent key: the simulated agents need it.")
    items = load_evalset(questions or ws.eval_path).items
    plan = ReplayPlan(
        url or f"http://{settings.host}:{settings.port}", agent_key, conversations, concurrency, agent_delay, seed=seed
    )
    done = ReplayReport()
    every = max(1, conversations // 10)
    started = time.monotonic()

    def progress(report: ReplayReport) -> None:  # plain lines: a log or a killed run keeps them
        if report.conversations % every == 0 and report.conversations < conversations:
            minutes = (time.monotonic() - started) / 60
            console.print(f"replay: {report.summary()} ({minutes:.1f} min)", highlight=False)

    async def until_stopped() -> None:  # SIGTERM (a timeout, a supervisor) stops it as Ctrl-C does
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            await run_replay(plan, items, on_done=progress, report=done)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        asyncio.run(until_stopped())
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print(f"Replay stopped after {escape(done.summary())}.", highlight=False)
        raise KeyboardInterrupt from None
    console.print(f"Replayed against {escape(plan.url)}: {escape(done.summary())}.", highlight=False)
    for error in done.errors[:5]:
        console.print(f"[yellow]{escape(error)}[/]")
    console.print(f"Next: journey report --live -w {ws.root}")


@app.command()
def harvest(
    force: Annotated[
        bool, typer.Option("--force", help="Replace harvested files changed since journey wrote them.")
    ] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Resolved conversations and rated bot answers → training data for review, personal data redacted."""
    ws = _workspace(workspace)  # before the app database and presidio load: a missing workspace is said at once
    from journey.serve.harvest import harvest as run_harvest

    report = run_harvest(ws, force=force)
    console.print(report.summary(), highlight=False)
    console.print(
        f"Once reviewed: add {report.paths.conversations.name} to data/tickets.jsonl for `journey finetune`; "
        "`journey finetune --method dpo` (or kto) trains on the pairs (or the rated answers).",
        highlight=False,
    )


@app.command()
def index(
    watch: Annotated[
        bool, typer.Option("--watch", help="Then keep the index in step with the sources until Ctrl-C.")
    ] = False,
    interval: Annotated[float, typer.Option(help="Seconds between checks with --watch.", min=0.1)] = 2.0,
    workspace: WorkspaceOption = None,
) -> None:
    """Index knowledge documents and table rows for the augmented set-ups; re-runs only embed what changed."""
    import threading

    from rich.markup import escape

    ws = _workspace(workspace)  # before LanceDB and the encoder load: a missing workspace is said at once
    from journey.knowledge import IndexReport, build_index
    from journey.knowledge.watch import watch as watch_sources

    def show(report: IndexReport) -> None:
        console.print(f"Index: {report.summary()}", highlight=False)
        for skipped in report.skipped:
            err_console.print(f"[yellow]skipped[/] {escape(str(skipped))}", highlight=False)
        for warning in report.warnings:
            err_console.print(f"[yellow]warning[/] {escape(warning)}", highlight=False)
        for chunk in report.quarantined:
            err_console.print(f"[red]quarantined[/] {escape(str(chunk))}", highlight=False)
        if report.quarantined:
            err_console.print(
                "Quarantined chunks read as instructions to the assistant and are never put in a prompt; "
                "to use one anyway, add its id or path to \\[knowledge] released in journey.toml.",
                highlight=False,
            )
        for chunk in report.released:
            console.print(f"released (used despite its flag) {escape(str(chunk))}", highlight=False)

    show(build_index(ws))
    if watch:
        console.print(f"Watching {ws.knowledge_dir} and the table sources every {interval:g}s; Ctrl-C stops.")
        watch_sources(ws, threading.Event(), interval=interval, on_report=show)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, e.g. a customer question.")],
    k: Annotated[int, typer.Option("-k", help="How many passages.", min=1)] = 5,
    mode: Annotated[
        Literal["hybrid", "dense", "bm25"], typer.Option(help="hybrid (dense + BM25, fused), dense or bm25.")
    ] = "hybrid",
    workspace: WorkspaceOption = None,
) -> None:
    """Print the passages retrieval finds for a query, with scores, and any lookups it triggers."""
    from rich.markup import escape
    from rich.table import Table

    ws = _workspace(workspace)  # before LanceDB and the encoder load: a missing workspace is said at once
    if not ws.index_dir.is_dir():
        raise ws.missing_index()
    from journey.knowledge import Knowledge
    from journey.knowledge.lookups import run_lookups

    knowledge = Knowledge.open(ws)
    table = Table("#", "score", "title", "text", show_lines=True)
    table.add_column("id", overflow="fold")
    for rank, passage in enumerate(knowledge.search(query, k, mode), start=1):
        text = f"[red]QUARANTINED ({passage.quarantine}): never in a prompt[/]\n{escape(passage.text)}"
        shown = text if passage.quarantine else escape(passage.text)
        table.add_row(str(rank), f"{passage.score:.3f}", escape(passage.title), shown, passage.id)
    console.print(table)
    for result in run_lookups(knowledge.lookups, query):
        console.print(f"lookup [bold]{result.name}[/] {result.params}: {len(result.rows)} row(s)", highlight=False)
        for row in result.rows:
            console.print(f"  {row}", highlight=False)


@app.command()
def finetune(
    method: Annotated[
        str | None,
        typer.Option(
            help="lora (an adapter) or full (a whole model folder); dpo or kto: train the LoRA adapter further "
            "on what `journey harvest` wrote (pairs / rated answers), for the preference-tuned set-up."
        ),
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after N optimizer steps (a quick run); still saves.", min=1)
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the last checkpoint.")] = False,
    augmentation_aware: Annotated[
        bool | None,
        typer.Option(
            "--augmentation-aware/--no-augmentation-aware",
            help="Train with retrieved context in the prompt (default: when there is a knowledge index).",
        ),
    ] = None,
    base: Annotated[str | None, typer.Option(help="Base model (default: model.base).")] = None,
    output: Annotated[Path | None, typer.Option(help="Where to save (default: .journey/adapters/default).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an --output folder journey did not write.")] = False,
    lora_r: Annotated[int | None, typer.Option(help="LoRA rank.")] = None,
    lora_alpha: Annotated[int | None, typer.Option(help="LoRA alpha (scale = alpha / rank).")] = None,
    learning_rate: Annotated[float | None, typer.Option(help="Peak learning rate.")] = None,
    epochs: Annotated[float | None, typer.Option(help="Passes over the tickets (without --max-steps).")] = None,
    time_budget: TimeBudgetOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Fine-tune the base model on data/tickets.jsonl (loss on assistant replies) for the finetuned set-ups."""
    ws = _workspace(workspace)  # before torch loads: a missing workspace or tickets file is said at once
    if method in ("dpo", "kto"):
        given = {"--augmentation-aware": augmentation_aware, "--base": base, "--lora-r": lora_r}
        if unused := [flag for flag, value in (given | {"--lora-alpha": lora_alpha}).items() if value is not None]:
            raise UserError(f"{', '.join(unused)}: the {method.upper()} stage continues the fine-tuned adapter.")
        flags = {"output": output, "max_steps": max_steps, "learning_rate": learning_rate, "epochs": epochs}
        _preference(ws, method, resume=resume, force=force, time_budget=time_budget, **flags)
        return
    from journey.training.tickets import check_tickets

    check_tickets(ws.tickets_path)
    from journey.finetune import finetune as run_finetune
    from journey.training.loop import process_state
    from journey.workspace import with_overrides

    flags = {"lora_r": lora_r, "lora_alpha": lora_alpha, "learning_rate": learning_rate, "epochs": epochs}
    report = run_finetune(
        ws,
        base=base,
        output=output,
        method=method,
        max_steps=max_steps,
        resume=resume,
        augmentation_aware=augmentation_aware,
        settings=with_overrides(ws.settings.finetune, what="fine-tuning", **flags),
        force=force,
        budget_s=time_budget * 60 if time_budget else None,
    )
    if not process_state().is_main_process:  # under `accelerate launch`, one summary is enough
        return
    _say_budget(report)
    for skipped in report.skipped[:10]:
        err_console.print(f"[yellow]skipped[/] {skipped}", highlight=False)
    if len(report.skipped) > 10:
        err_console.print(f"[yellow]… and {len(report.skipped) - 10} more lines skipped[/]", highlight=False)
    console.print(report.summary(), highlight=False)
    console.print(report.handover_summary, highlight=False)
    if report.augmentation:
        console.print(report.augmentation.summary(), highlight=False)
    console.print(f"Saved: [bold]{report.output}[/]   run summary: {report.run_dir / 'run.json'}")
    console.print(f'Next: journey ask --setup finetuned -w {ws.root} "..."')


def _preference(ws: Workspace, method: Literal["dpo", "kto"], *, time_budget: float | None, **options: Any) -> None:
    """`journey finetune --method dpo|kto`: the preference stage on the harvested, reviewed feedback."""
    from journey.finetune.preference import preference_finetune
    from journey.training.loop import process_state

    report = preference_finetune(ws, method, budget_s=time_budget * 60 if time_budget else None, **options)
    if not process_state().is_main_process:
        return
    _say_budget(report)
    for skipped in report.skipped[:10]:
        err_console.print(f"[yellow]skipped[/] {skipped}", highlight=False)
    console.print(report.summary(), highlight=False)
    console.print(f"Saved: [bold]{report.output}[/]   run summary: {report.run_dir / 'run.json'}")
    console.print(
        f"Next: journey evaluate --setups finetuned,preference-tuned -w {ws.root}   "
        "(with knowledge: --setups finetuned+augmented,preference-tuned+augmented)"
    )


@app.command()
def merge(
    output: Annotated[Path, typer.Argument(help="Folder to write the merged model to.")],
    adapter: Annotated[Path | None, typer.Option(help="Adapter folder (default: .journey/adapters/default).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an OUTPUT folder journey did not write.")] = False,
    workspace: WorkspaceOption = None,
) -> None:
    """Merge the LoRA adapter into the base model: a plain model folder for any Hugging Face tool or server."""
    from journey.finetune import merge as run_merge

    folder = run_merge(_workspace(workspace), output, adapter=adapter, force=force)
    console.print(f"Merged model written to [bold]{folder}[/] (loads with AutoModelForCausalLM.from_pretrained).")


@app.command()
def export(
    setup: SetupOption = "finetuned",
    out: Annotated[
        Path | None, typer.Option(help="Folder for the GGUF file and its Modelfile (default: .journey/exports/SETUP).")
    ] = None,
    file_format: Annotated[
        Literal["gguf"], typer.Option("--format", help="File format (llama.cpp, Ollama, LM Studio).")
    ] = "gguf",
    outtype: Annotated[
        Literal["f16", "f32", "q8_0"],
        typer.Option(help="Weights: f16, f32 (exact) or q8_0 (about half of f16's size)."),
    ] = "f16",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing export.")] = False,
    check: Annotated[
        bool,
        typer.Option("--check/--no-check", help="Answer eval questions with the merged model and the file; compare."),
    ] = True,
    questions: Annotated[int, typer.Option(help="Eval questions the check answers.", min=1)] = 20,
    workspace: WorkspaceOption = None,
) -> None:
    """Export a set-up's model (LoRA merged in) as a GGUF file with an Ollama Modelfile; check it answers alike."""
    ws = _workspace(workspace)
    if check and not ws.eval_path.is_file():  # said before the model loads
        raise UserError(
            f"The check answers the questions of {ws.eval_path}, which does not exist; add it or pass --no-check."
        )
    from journey.finetune.export import export as run_export

    exported = run_export(ws, setup, out=out, outtype=outtype, force=force)
    console.print(exported.summary(), highlight=False)
    if check:
        from journey.evaluate.export_check import check_export
        from journey.evaluate.tables import to_rich

        console.print(to_rich(check_export(ws, exported, questions=questions)))
    from journey.models import FINETUNED_SERVER_MODEL  # the name journey's openai backend asks for a fine-tune by

    folder = exported.gguf_path.parent
    name = FINETUNED_SERVER_MODEL if exported.setup.adapter else exported.gguf_path.stem.lower()
    console.print(
        f"Next: cd {folder} && ollama create {name} -f Modelfile   (or: llama-server -m {exported.gguf_path})"
    )


def main() -> None:
    """Entry point: user mistakes become one clear message and a non-zero exit, never a traceback.

    Usage mistakes print click's message under the command's usage and exit 2; a `UserError`
    prints its sentence and exits 2; Ctrl-C says how to resume and exits 130.
    """
    try:
        # --help and typer.Exit return their exit code; the usage says `journey` under `python -m journey` too
        code = app(prog_name="journey", standalone_mode=False)
    except UserError as exc:
        _say(f"[bold red]error:[/] {escape(str(exc))}", 2)
    except ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        _say(escape(interrupted_message(exc.verb, sys.argv[1:])), 130)
    except typer.Abort:  # end of input at a prompt
        _say("Aborted.", 1)
    except OSError as exc:  # the disk, not the code: a full disk, a permission, a vanished file
        where = f" ({exc.filename})" if exc.filename else ""
        _say(f"[bold red]error:[/] {escape(f'{exc.strerror or exc}{where}')}.", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _say(markup: str, code: int) -> NoReturn:
    err_console.print(markup, highlight=False, soft_wrap=True)
    sys.exit(code)


def interrupted_message(verb: str | None, args: list[str]) -> str:
    """What to tell a user who pressed Ctrl-C in `journey <args>`: the command that continues the work."""
    if verb not in RESUME_FLAG and verb not in RESUMES_ON_RERUN:
        return "Interrupted."
    rest = args[args.index(verb) + 1 :]  # before the verb there are only flags (-v)
    if verb in RESUME_FLAG:
        rest += [] if RESUME_FLAG[verb] in rest else [RESUME_FLAG[verb]]
    else:
        rest = [arg for arg in rest if arg not in RESUMES_ON_RERUN[verb]]
    return f"Interrupted — resume with `{shlex.join(['journey', verb, *rest])}`."
