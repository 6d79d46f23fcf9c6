"""`journey demo`: the whole journey on the demo company, end to end — the README's main command.

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
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlalchemy import create_engine, text

from journey.errors import UserError
from journey.evaluate.cost import StageRecord, measured_stages, record_stage
from journey.evaluate.freshness import FreshnessProbe, load_freshness, run_freshness
from journey.evaluate.report import Report, write_report
from journey.evaluate.runner import evaluate
from journey.evaluate.runs import find_run
from journey.evaluate.tables import pct, to_rich
from journey.workspace import CONFIG_NAME, Workspace


@dataclass(frozen=True)
class DemoPlan:
    """How much of everything the demo does; the stages' keyword arguments are also how a rerun
    tells whether an existing adapter or model was made with this plan."""

    run_id: str
    questions: int  # the first N questions of the eval set
    finetune: dict[str, int]
    train: dict[str, int]


# Sized for 2 CPU cores: the default took 17.8-20.8 min as the machine's speed drifted. --quick took
# 5.0 min with an empty model cache (GGUF conversion included) with 16 questions and 4 fine-tune steps,
# so it asks 12 (still every category of the eval set) and fine-tunes 2 steps: a smoke run of every
# stage, not a measurement.
DEFAULT = DemoPlan("demo", 60, finetune={"max_steps": 40}, train={"max_steps": 300, "instruction_steps": 10})
QUICK = DemoPlan("demo-quick", 12, finetune={"max_steps": 2}, train={"max_steps": 30, "instruction_steps": 10})


def ensure_demo_workspace(console: Console, directory: Path) -> Workspace:
    """Create the demo workspace once; later runs reuse it."""
    if not (directory / CONFIG_NAME).is_file():
        from journey.demo import create_demo_workspace

        console.print(f"Creating the demo company in [bold]{directory}[/] …")
        create_demo_workspace(directory)
    return Workspace.load(directory)


def run_demo(console: Console, directory: Path, *, quick: bool = False, retrain: bool = False) -> Report:
    """Run every stage of the journey on the demo workspace and print the journey table."""
    plan = QUICK if quick else DEFAULT
    started = time.perf_counter()
    workspace = ensure_demo_workspace(console, directory)

    def evaluate_setups(setups: list[str]) -> None:
        _heading(console, f"evaluate {', '.join(setups)}")
        results = evaluate(workspace, setups, console=console, limit=plan.questions, run_id=plan.run_id)
        for setup in setups:
            overall = results.metrics[setup].overall
            console.print(
                f"{setup:<22} {pct(overall.correct)} correct, {pct(overall.resolved_by_bot)} resolved by the bot",
                highlight=False,
            )

    _heading(console, "index")
    index_stage(console, workspace)
    evaluate_setups(["as-is", "augmented"])
    _heading(console, "fine-tune")
    if finetune_stage(console, workspace, plan, retrain=retrain):
        evaluate_setups(["finetuned", "finetuned+augmented"])
    _heading(console, "train from scratch")
    if train_stage(console, workspace, plan, retrain=retrain):
        evaluate_setups(["scratch"])
    _heading(console, "freshness test")
    freshness_stage(console, workspace)
    _heading(console, "report")
    report = write_report(workspace, find_run(workspace, plan.run_id))
    console.print(to_rich(report.journey))
    console.print(f"Report: [bold]{report.html_path}[/]\nSummary: [bold]{report.markdown_path}[/]")
    console.print(f"The demo took {(time.perf_counter() - started) / 60:.1f} min.")
    return report


def index_stage(console: Console, workspace: Workspace) -> None:
    """Bring the index up to date; record its cost when it did embedding work."""
    from journey.knowledge import build_index
    from journey.knowledge.embeddings import load_encoder

    report = build_index(workspace)
    console.print(report.summary(), highlight=False)
    if report.chunks_embedded:
        settings = workspace.settings.knowledge
        encoder = load_encoder(settings.embedding_model)
        record_stage(
            workspace,
            StageRecord(
                stage="index",
                seconds=report.seconds,
                hardware=workspace.settings.cost.hardware,
                tokens=report.chunks_embedded * settings.chunk_tokens,
                parameters=sum(p.numel() for p in encoder.parameters()),
                detail=f"{report.chunks_embedded} chunks embedded (tokens: at most {settings.chunk_tokens} each)",
            ),
        )


def finetune_stage(console: Console, workspace: Workspace, plan: DemoPlan, *, retrain: bool) -> bool:
    """Fine-tune unless an adapter made with this plan exists; False when fine-tuning is not available."""
    return _train_once(console, workspace, "finetune", workspace.adapter_dir, plan.finetune, retrain=retrain)


def train_stage(console: Console, workspace: Workspace, plan: DemoPlan, *, retrain: bool) -> bool:
    """Train from scratch unless a model made with this plan exists; False when training is not available."""
    return _train_once(console, workspace, "train", workspace.scratch_model_dir, plan.train, retrain=retrain)


def _train_once(
    console: Console, workspace: Workspace, stage: str, output: Path, arguments: dict[str, int], *, retrain: bool
) -> bool:
    """Run `journey <stage>` unless its output can be reused; it writes the run.json the cost step reads.

    Each training stage runs in its own process, as `accelerate launch` would run it: the
    accelerate state of one stage cannot leak into the next, and its memory is returned.
    """
    if importlib.util.find_spec(f"journey.{stage}.run") is None:
        console.print(f"[yellow]skipped: journey.{stage} not available yet[/]")
        return False
    previous = measured_stages(workspace).get(stage)
    same_plan = previous is not None and all(previous.settings.get(k) == v for k, v in arguments.items())
    if output.is_dir() and same_plan and not retrain:
        console.print(f"reusing {output} ({previous.detail}); --retrain to redo it")
        return True
    options = [part for key, value in arguments.items() for part in (f"--{key.replace('_', '-')}", str(value))]
    command = [sys.executable, "-m", "journey", stage, *options, "--workspace", str(workspace.root)]
    if subprocess.run(command, check=False).returncode != 0:
        raise UserError(f"`journey {stage}` failed (see above); the demo stops here. Rerun `journey demo` to resume.")
    return True


def freshness_stage(console: Console, workspace: Workspace) -> None:
    """Change a product's price and see which set-ups answer the new one (skipped if already measured)."""
    from journey.assistant import available_setups

    setups = [s for s in available_setups(workspace) if s != "as-is"]
    done = load_freshness(workspace)
    if done and set(setups) <= set(done["answers"]):
        console.print("reusing the freshness test already measured")
        return
    result = run_freshness(workspace, demo_probe(workspace), setups)
    for setup, answer in result["answers"].items():
        verdict = "new value" if answer["new_value"] else "old value" if answer["old_value"] else "neither value"
        console.print(f"{setup:<22} {verdict}", highlight=False)


def demo_probe(workspace: Workspace) -> FreshnessProbe:
    """Raise the price of the first catalogue product by 10.00."""
    engine = create_engine(workspace.database_url("shop"))
    with engine.connect() as connection:
        sku, name, price = connection.execute(text("SELECT sku, name, price FROM products ORDER BY sku")).first()
    engine.dispose()
    new_price = round(price + 10, 2)
    return FreshnessProbe(
        database="shop",
        table="products",
        key_column="sku",
        key=sku,
        column="price",
        old_value=price,
        new_value=new_price,
        question=f"How much does the {name} cost?",
        old_fact=f"{price:.2f}",
        new_fact=f"{new_price:.2f}",
    )


def _heading(console: Console, title: str) -> None:
    console.rule(f"[bold]{title}")
