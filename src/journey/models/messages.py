"""A chat conversation as every layer passes it: OpenAI-format messages, each {"role": ..., "content": ...};
and one JSON line of past conversations (docs/design.md, tickets.jsonl) read into one, with the hand-over
it declares.

Its own module, without torch: prompts, tickets and backends all import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Messages = list[dict[str, str]]
ROLES = ("system", "user", "assistant")
TOOL = "transfer_to_human"  # the hand-over action (assistant/handover.py)
ARGUMENTS = ("team", "reason")
FoundBy = Literal["flag", "tool call", "learned sentence"]


@dataclass(frozen=True)
class Transfer:
    """A hand-over to a human: the team it goes to and why (either may be empty)."""

    team: str = ""
    reason: str = ""

    def tool_call(self) -> dict[str, Any]:
        """The action as an OpenAI tool call."""
        arguments = json.dumps({"team": self.team, "reason": self.reason})
        return {"type": "function", "function": {"name": TOOL, "arguments": arguments}}


def transfer_from_tool_calls(tool_calls: object) -> Transfer | str | None:
    """The `transfer_to_human` call among OpenAI `tool_calls`; None when there is none; why, when it is unusable."""
    if not isinstance(tool_calls, list):
        return '"tool_calls" must be a list'
    for call in tool_calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or function.get("name") != TOOL:
            continue
        arguments = function.get("arguments", "{}")
        try:
            values = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            return f"{TOOL} arguments are not JSON"
        if not isinstance(values, dict):
            return f"{TOOL} arguments must be an object"
        if unknown := sorted(set(values) - set(ARGUMENTS)):
            return f"{TOOL} has unknown argument(s) {', '.join(unknown)} (expected {', '.join(ARGUMENTS)})"
        if not all(isinstance(values.get(key, ""), str) for key in ARGUMENTS):
            return f"{TOOL} arguments team and reason must be strings"
        return Transfer(values.get("team", ""), values.get("reason", ""))
    return None


def to_messages(record: object) -> tuple[Messages, Transfer | None, FoundBy | None] | str:
    """The conversation of one JSON line, cut after its last assistant turn, and the hand-over its line or
    final turn declares; or why it is unusable."""
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
    transfers: dict[int, Transfer] = {}
    for index, message in enumerate(messages):
        if isinstance(message, dict) and message.get("role") == "assistant" and "tool_calls" in message:
            found = transfer_from_tool_calls(message["tool_calls"])
            if isinstance(found, str):
                return f"message {index + 1}: {found}"
            if found is not None:
                transfers[index] = found
            message = {**message, "content": message.get("content") or ""}  # a tool call may come without text
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
    conversation = [{"role": m["role"], "content": m.get("content") or ""} for m in messages[: last + 1]]
    if last in transfers:
        return conversation, transfers[last], "tool call"
    if record.get("handover") is True:
        return conversation, Transfer(), "flag"
    return conversation, None, None


def final_exchange(messages: Messages) -> tuple[str, str]:
    """The last customer message and the final answer of a conversation."""
    question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
    return question, messages[-1]["content"]
