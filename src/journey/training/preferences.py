"""What `journey harvest` writes for review and the preference stage reads: the files under `data/`, and the
readers of the two preference files in TRL's conversational formats.

- `harvested.jsonl`: conversations agents resolved, in the tickets.jsonl contract (docs/design.md);
- `harvested_pairs.jsonl`: DPO pairs, `{"prompt": [messages], "chosen": [assistant], "rejected": [assistant]}`;
- `harvested_kto.jsonl`: KTO labels, `{"prompt": [messages], "completion": [assistant], "label": true|false}`.

Prompts carry no system turn; the readers insert the assistant's, as the tickets reader does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from journey.errors import UserError
from journey.io import JsonlProblem, read_jsonl
from journey.models.messages import Messages
from journey.workspace import Workspace

Kind = Literal["dpo", "kto"]
PROMPT_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class HarvestPaths:
    conversations: Path
    pairs: Path
    labels: Path

    def of(self, kind: Kind) -> Path:
        """The file the preference stage `kind` trains on."""
        return self.pairs if kind == "dpo" else self.labels


def harvest_paths(workspace: Workspace) -> HarvestPaths:
    data = workspace.root / "data"
    return HarvestPaths(data / "harvested.jsonl", data / "harvested_pairs.jsonl", data / "harvested_kto.jsonl")


@dataclass(frozen=True)
class Preferences:
    """The usable records of a preference file (TRL's dataset rows), the lines skipped (with why) and its hash."""

    path: Path
    kind: Kind
    rows: list[dict]
    skipped: list[JsonlProblem]
    sha256: str


def read_preferences(workspace: Workspace, kind: Kind, system_prompt: str) -> Preferences:
    """The harvested DPO pairs or KTO labels; one sentence when there are none to train on."""
    path = harvest_paths(workspace).of(kind)
    what = "preference pairs" if kind == "dpo" else "rated answers"
    if not path.is_file():
        raise UserError(f"No harvested {what}: {path} does not exist. Run `journey harvest` and review it first.")
    rows, skipped = [], []
    for item in read_jsonl(path):
        if isinstance(item, JsonlProblem):
            skipped.append(item)
            continue
        number, record = item
        row = _row(record, kind)
        if isinstance(row, str):
            skipped.append(JsonlProblem(path, number, row))
            continue
        if row["prompt"][0]["role"] != "system":
            row["prompt"].insert(0, {"role": "system", "content": system_prompt})
        rows.append(row)
    if kind == "kto" and rows and len({row["label"] for row in rows}) < 2:
        label = "up" if rows[0]["label"] else "down"
        raise UserError(f"All {len(rows)} rated answers in {path} are thumbs {label}: KTO needs both kinds.")
    if not rows:
        reasons = "; ".join(str(p) for p in skipped[:3]) or "the file is empty"
        raise UserError(f"No harvested {what} to train on in {path} ({reasons}).")
    return Preferences(path, kind, rows, skipped, hashlib.sha256(path.read_bytes()).hexdigest())


def _row(record: object, kind: Kind) -> dict | str:
    """TRL's row for one line, or why it is unusable."""
    if not isinstance(record, dict):
        return "not a JSON object"
    fields = ("chosen", "rejected") if kind == "dpo" else ("completion",)
    if kind == "kto" and not isinstance(record.get("label"), bool):
        return '"label" must be true or false'
    prompt = _messages(record.get("prompt"), "prompt", PROMPT_ROLES)
    if isinstance(prompt, str):
        return prompt
    if prompt[-1]["role"] != "user":
        return "the prompt must end with the customer's turn"
    row: dict = {"prompt": prompt}
    for name in fields:
        answer = _messages(record.get(name), name, ("assistant",))
        if isinstance(answer, str):
            return answer
        row[name] = answer
    return row | ({"label": record["label"]} if kind == "kto" else {})


def _messages(value: object, name: str, roles: tuple[str, ...]) -> Messages | str:
    if not isinstance(value, list) or not value:
        return f'"{name}" must be a non-empty list of messages'
    for index, message in enumerate(value):
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            return f"{name} message {index + 1} has no text content"
        if message.get("role") not in roles or (message["role"] == "system" and index > 0):
            return f"{name} message {index + 1} has role {message.get('role')!r} (expected {', '.join(roles)})"
    return [{"role": m["role"], "content": m["content"]} for m in value]
