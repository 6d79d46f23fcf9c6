"""`journey evaluate`: every eval question through every chosen set-up, batched, resumable.

Answers are appended to the run's `answers.jsonl` a batch at a time. A rerun of an
unfinished run (the latest one by default) answers only what is missing, or what
was answered by a set-up whose model, adapter, index or settings changed since.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from journey.assistant import load_assistant, resolve_setup
from journey.assistant.handover import learned_sentences
from journey.assistant.setups import SetupSpec
from journey.evaluate.evalset import EvalItem, EvalSet, load_evalset
from journey.evaluate.judge import judge_backend, judge_run
from journey.evaluate.results import Results, load_results
from journey.evaluate.runs import AnswerRecord, Run, create_run, evaluation_runs
from journey.io import atomic_write_json
from journey.workspace import Workspace


def evaluate(
    workspace: Workspace,
    setups: list[str],
    *,
    console: Console,
    limit: int | None = None,
    run_id: str | None = None,
    fresh: bool = False,
) -> Results:
    """Answer the eval set with each set-up, then score, simulate and write summary.json."""
    evalset = load_evalset(workspace.eval_path, limit=limit)
    for note in evalset.notes():
        console.print(f"[yellow]{note}[/]", highlight=False)
    specs = [resolve_setup(workspace, name) for name in setups]  # a missing part fails before any work
    run = open_run(workspace, evalset, run_id=run_id, fresh=fresh, console=console)
    answer_all(workspace, run, evalset.items, specs, console=console)
    if (backend := judge_backend(workspace.settings.evaluate)) is not None:
        console.print(f"Judging answers with {backend.name} …")
        judge_run(backend, run, evalset.items, run.records())
    results = load_results(workspace, run)
    atomic_write_json(run.summary_path, results.summary())
    run.update_manifest(finished=True)
    return results


def open_run(workspace: Workspace, evalset: EvalSet, *, run_id: str | None, fresh: bool, console: Console) -> Run:
    """The named run (created if new); else the latest unfinished run on the same eval file; else a new one."""
    runs = evaluation_runs(workspace)
    if run_id is not None:
        named = next((run for run in runs if run.id == run_id), None)
        return named or create_run(workspace, run_id, eval_file=str(evalset.path))
    unfinished = [
        r for r in runs if not r.manifest().get("finished") and r.manifest().get("eval_file") == str(evalset.path)
    ]
    if unfinished and not fresh:
        console.print(f"Resuming unfinished run [bold]{unfinished[-1].id}[/] (use --fresh to start a new one).")
        return unfinished[-1]
    return create_run(workspace, eval_file=str(evalset.path))


def answer_all(
    workspace: Workspace, run: Run, items: list[EvalItem], specs: list[SetupSpec], *, console: Console
) -> None:
    """Answer every (question, set-up) pair the run lacks, one set-up's model in memory at a time."""
    run.update_manifest(finished=False)
    done = {(r.id, r.setup): r.fingerprint for r in run.records()}
    plan = []
    for spec in specs:
        stamp = setup_fingerprint(workspace, spec)
        todo = [item for item in items if done.get((item.id, spec.name)) != answer_fingerprint(stamp, item)]
        plan.append((spec, stamp, todo))
    reused = sum(len(items) - len(todo) for _, _, todo in plan)
    if reused:
        console.print(f"Reusing {reused} answer(s) already in run {run.id}.")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        for spec, stamp, todo in plan:
            task = progress.add_task(f"{spec.name:<20}", total=len(items), completed=len(items) - len(todo))
            if todo:
                _answer_setup(workspace, run, spec, stamp, todo, advance=lambda n, t=task: progress.advance(t, n))


def _answer_setup(
    workspace: Workspace, run: Run, spec: SetupSpec, stamp: str, todo: list[EvalItem], advance: Callable[[int], None]
) -> None:
    assistant = load_assistant(workspace, spec.name)
    model = getattr(assistant.backend, "model", None)
    if hasattr(model, "parameters"):
        parameters = sum(p.numel() for p in model.parameters())
        run.update_manifest(parameters={**run.manifest().get("parameters", {}), spec.name: parameters})
    size = workspace.settings.model.batch_size
    ordered = sorted(todo, key=lambda item: len(item.question))  # similar lengths pad less
    for offset in range(0, len(ordered), size):
        chunk = ordered[offset : offset + size]
        start = time.perf_counter()
        replies = assistant.answer_batch([(item.question, None) for item in chunk])
        share = (time.perf_counter() - start) / len(chunk)
        run.append(
            [
                AnswerRecord.answered(item.id, answer_fingerprint(stamp, item), reply, share)
                for item, reply in zip(chunk, replies, strict=True)
            ]
        )
        advance(len(chunk))
    del assistant, model
    gc.collect()


def setup_fingerprint(workspace: Workspace, spec: SetupSpec) -> str:
    """A hash of everything that shapes a set-up's answers: settings, model, adapter and index files."""
    settings = workspace.settings
    parts = {
        "spec": [spec.name, spec.base, spec.knowledge],
        "project": settings.project.model_dump(),
        "model": settings.model.model_dump(exclude={"batch_size"}),
        "assistant": settings.assistant.model_dump(),
        "handover_sentences": [s.normal for s in learned_sentences(workspace.tickets_path)],  # learnt: tickets
        "knowledge": settings.knowledge.model_dump() if spec.knowledge else None,
        "base_files": _files_stamp(Path(spec.base)),
        "adapter_files": _files_stamp(spec.adapter),
        "index": _index_stamp(workspace) if spec.knowledge else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def answer_fingerprint(setup_stamp: str, item: EvalItem) -> str:
    """The set-up's fingerprint combined with the question's text."""
    return hashlib.sha256(f"{setup_stamp}\n{item.question}".encode()).hexdigest()[:16]


def _index_stamp(workspace: Workspace) -> str | None:
    """The indexed content (digests of every document and row), not the index files, which compaction rewrites."""
    from journey.knowledge.store import ChunkStore

    store = ChunkStore.open(workspace.index_dir)
    return None if store is None else hashlib.sha256(json.dumps(sorted(store.digests().items())).encode()).hexdigest()


def _files_stamp(folder: Path | None) -> list[tuple[str, int, int]] | None:
    if folder is None or not folder.is_dir():
        return None
    return sorted(
        (str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    )
