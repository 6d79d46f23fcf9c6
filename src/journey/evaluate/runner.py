"""`journey evaluate`: every eval question through every chosen set-up, batched, resumable.

Answers are appended to the run's `answers.jsonl` as they finish: a batch at a time from the
in-process model, one by one from a server answering `model.concurrency` at once. A rerun of an
unfinished run (the latest one by default) answers only what is missing, or what
was answered by a set-up whose model, adapter, index or settings changed since.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from journey.assistant import load_assistant, resolve_setup
from journey.assistant.setups import SetupSpec
from journey.evaluate.evalset import EvalItem, EvalSet, load_evalset
from journey.evaluate.judge import judge_backend, judge_run
from journey.evaluate.results import Results, load_results
from journey.evaluate.runs import AnswerRecord, Run, create_run, evaluation_runs
from journey.io import atomic_write_json
from journey.workspace import Workspace

if TYPE_CHECKING:  # the pipeline loads torch when the first set-up loads, not on import
    from journey.assistant import Assistant, Reply

T = TypeVar("T")
R = TypeVar("R")
# Settings that change how fast answers come, not what they say: a change keeps a run's answers.
PACE_SETTINGS = {"batch_size", "concurrency", "openai_timeout", "openai_max_retries"}


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
    """Answer `todo`: in-process, a batch of `model.batch_size` at a time; from a server, question by question,
    `concurrency` at once. Each batch or answer is appended as it finishes, so a failure loses none of them."""
    assistant = load_assistant(workspace, spec.name)
    model = getattr(assistant.backend, "model", None)
    if hasattr(model, "parameters"):
        parameters = sum(p.numel() for p in model.parameters())
        run.update_manifest(parameters={**run.manifest().get("parameters", {}), spec.name: parameters})
    lanes = getattr(assistant.backend, "concurrency", 1)
    size = workspace.settings.model.batch_size if lanes == 1 else 1
    ordered = sorted(todo, key=lambda item: len(item.question))  # similar lengths pad less
    chunks = [ordered[offset : offset + size] for offset in range(0, len(ordered), size)]
    last = time.perf_counter()
    for chunk, replies in _as_finished(partial(_answer_chunk, assistant), chunks, lanes=lanes):
        now = time.perf_counter()
        share, last = (now - last) / len(chunk), now  # wall-clock since the last one finished, shared out
        run.append(
            [
                AnswerRecord.answered(item.id, answer_fingerprint(stamp, item), reply, share)
                for item, reply in zip(chunk, replies, strict=True)
            ]
        )
        advance(len(chunk))
    del assistant, model
    gc.collect()


def _answer_chunk(assistant: Assistant, chunk: list[EvalItem]) -> tuple[list[EvalItem], list[Reply]]:
    return chunk, assistant.answer_batch([(item.question, None) for item in chunk])


def _as_finished(work: Callable[[T], R], jobs: list[T], *, lanes: int) -> Iterator[R]:
    """`work(job)` for every job, yielded as each finishes: one after the other in this thread (lanes = 1), else
    `lanes` at a time. After a failure no new job starts, those running are still yielded, then the error is
    raised."""
    if lanes == 1:
        yield from map(work, jobs)
        return
    pool = ThreadPoolExecutor(lanes, thread_name_prefix="evaluate")
    futures = [pool.submit(work, job) for job in jobs]
    failure: BaseException | None = None
    try:
        for future in as_completed(futures):
            if future.cancelled():
                continue
            if (error := future.exception()) is not None:
                failure = failure or error
                for waiting in futures:
                    waiting.cancel()
                continue
            yield future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if failure is not None:
        raise failure


def setup_fingerprint(workspace: Workspace, spec: SetupSpec) -> str:
    """A hash of everything that shapes a set-up's answers: settings, model, adapter and index files."""
    settings = workspace.settings
    parts = {
        "spec": [spec.name, spec.base, spec.knowledge],
        "project": settings.project.model_dump(),
        "model": settings.model.model_dump(exclude=PACE_SETTINGS),
        "assistant": settings.assistant.model_dump(),
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
