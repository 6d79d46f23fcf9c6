"""Support tickets (`data/tickets.jsonl`) → validated chat conversations, as `journey finetune` trains on
them and `journey train` adds them to its corpus.

Each line is `{"messages": [...]}` in OpenAI chat format, or `{"prompt": ..., "completion": ...}`
(strings, or lists of messages). Lines that cannot be trained on are reported by line
number and skipped; the system prompt the assistant uses is inserted where a ticket has none,
so the fine-tuned model sees the same system turn as at inference.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from journey.errors import UserError
from journey.io import JsonlProblem, read_jsonl
from journey.models.messages import Messages

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Ticket:
    """One past conversation, starting with a system turn and ending with an assistant turn."""

    line: int
    messages: Messages


@dataclass(frozen=True)
class Tickets:
    """The usable tickets of a file, the lines skipped (with why) and the file's hash."""

    path: Path
    tickets: list[Ticket]
    skipped: list[JsonlProblem]
    sha256: str


def check_tickets(path: Path) -> None:
    """The sentence for a missing tickets file (cheap: the CLI says it before torch loads)."""
    if not path.is_file():
        raise UserError(f"No fine-tuning data: {path} does not exist (one conversation a line, OpenAI chat format).")


def read_tickets(path: Path, system_prompt: str) -> Tickets:
    """Read and validate `path`; raise a clear error when nothing is left to train on."""
    check_tickets(path)
    tickets, skipped = [], []
    for item in read_jsonl(path):
        if isinstance(item, JsonlProblem):
            skipped.append(item)
            continue
        number, record = item
        messages = to_messages(record)
        if isinstance(messages, str):
            skipped.append(JsonlProblem(path, number, messages))
            continue
        if messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": system_prompt})
        tickets.append(Ticket(number, messages))
    if not tickets:
        reasons = "; ".join(str(p) for p in skipped[:3]) or "the file is empty"
        raise UserError(f"No usable conversations in {path} ({len(skipped)} line(s) skipped: {reasons}).")
    return Tickets(path, tickets, skipped, hashlib.sha256(path.read_bytes()).hexdigest())


def to_messages(record: object) -> Messages | str:
    """The conversation of one JSON line, cut after its last assistant turn; or why it is unusable."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if "messages" in record:
        messages = record["messages"]
    elif "prompt" in record and "completion" in record:
        prompt, completion = record["prompt"], record["completion"]
        if isinstance(prompt, str) and isinstance(completion, str):
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
        elif isinstance(prompt, list) and isinstance(completion, list):
            messages = prompt + completion
        else:
            return "prompt and completion must both be strings or both be lists of messages"
    else:
        return 'neither "messages" nor "prompt"/"completion"'
    if not isinstance(messages, list) or not messages:
        return '"messages" must be a non-empty list'
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            return f"message {index + 1} has no text content"
        if message.get("role") not in ROLES:
            return f"message {index + 1} has unknown role {message.get('role')!r} (expected {', '.join(ROLES)})"
        if message["role"] == "system" and index > 0:
            return f"message {index + 1} is a system message after the start"
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None:
        return "no assistant turn to learn from"
    if not any(m["role"] == "user" for m in messages[:last]):
        return "no user turn before the assistant's reply"
    return [{"role": m["role"], "content": m["content"]} for m in messages[: last + 1]]
