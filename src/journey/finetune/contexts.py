"""The context the augmented pipeline would gather for each ticket's question, cached.

Gathering embeds every question and searches the index, so the results are kept in
`.journey/cache/finetune-contexts.json`, keyed by question and history, and reused
until the index (its LanceDB version) or the knowledge settings change. Lookups read
the databases at gathering time; delete the cache file to refresh them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

from rich.progress import track

from journey.io import atomic_write_text
from journey.knowledge import Context, Knowledge, LookupResult, Passage
from journey.models.messages import Messages
from journey.workspace import Workspace

CACHE_NAME = "finetune-contexts.json"


def question_of(messages: Messages) -> tuple[int, str, Messages]:
    """The index, text and earlier turns of the user message the last assistant turn answers."""
    index = max(i for i, m in enumerate(messages) if m["role"] == "user")
    history = [m for m in messages[:index] if m["role"] in ("user", "assistant")]
    return index, messages[index]["content"], history


def context_key(question: str, history: Messages) -> str:
    return hashlib.sha256(json.dumps([question, history], sort_keys=True).encode()).hexdigest()[:24]


def gather_contexts(workspace: Workspace, conversations: list[Messages], *, progress: bool) -> list[Context]:
    """The context of each conversation's question (see `question_of`), in order."""
    knowledge = Knowledge.open(workspace)
    path = workspace.state_dir / "cache" / CACHE_NAME
    stamp = f"{knowledge.store.table.version}|{workspace.settings.knowledge.model_dump_json()}"
    cached = _read_cache(path, stamp)
    keys, todo = [], {}
    for messages in conversations:
        _, question, history = question_of(messages)
        keys.append(context_key(question, history))
        if keys[-1] not in cached:
            todo[keys[-1]] = (question, history)
    items = track(todo.items(), description="gathering context", disable=not progress or not todo)
    for key, (question, history) in items:
        cached[key] = knowledge.gather(question, history)
    if todo:
        contexts = {key: asdict(context) for key, context in cached.items()}
        atomic_write_text(path, json.dumps({"stamp": stamp, "contexts": contexts}, default=str))
    return [cached[key] for key in keys]


def _read_cache(path: Path, stamp: str) -> dict[str, Context]:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if saved.get("stamp") != stamp:
        return {}
    return {
        key: Context(
            passages=[Passage(**p) for p in value["passages"]],
            lookups=[LookupResult(**r) for r in value["lookups"]],
        )
        for key, value in saved["contexts"].items()
    }
