"""Support tickets (`data/tickets.jsonl`) → validated chat conversations, as `journey finetune` trains on
them and `journey train` adds them to its corpus.

Each line is `{"messages": [...]}` in OpenAI chat format, or `{"prompt": ..., "completion": ...}`
(strings, or lists of messages). Lines that cannot be trained on are reported by line
number and skipped; the system prompt the assistant uses is inserted where a ticket has none,
so the fine-tuned model sees the same system turn as at inference.

Hand-over tickets (docs/design.md) are found without a phrase list: by a `"handover": true` flag on
the line, by a `transfer_to_human` tool call in the final assistant turn (OpenAI `tool_calls`), or
else by the recurring hand-over sentence learnt from the tickets' final answers (assistant/sentences.py).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from journey.assistant.sentences import LearnedSentence, contains, learn
from journey.errors import UserError
from journey.io import JsonlProblem, read_jsonl
from journey.models.messages import FoundBy, Messages, Transfer, final_exchange, to_messages


@dataclass(frozen=True)
class Ticket:
    """One past conversation, starting with a system turn and ending with an assistant turn.

    `handover`: the final turn hands over to a human (`found_by` says how that was known)."""

    line: int
    messages: Messages
    handover: Transfer | None = None
    found_by: FoundBy | None = None


@dataclass(frozen=True)
class Tickets:
    """The usable tickets of a file, the lines skipped (with why) and the file's hash."""

    path: Path
    tickets: list[Ticket]
    skipped: list[JsonlProblem]
    sha256: str
    learned: list[LearnedSentence] = field(default_factory=list)  # the hand-over sentence(s) found

    def handovers(self) -> Counter[str]:
        """How many hand-over tickets were found, by how they were found."""
        return Counter(t.found_by for t in self.tickets if t.found_by)

    def handover_summary(self) -> str:
        """The line `journey finetune` prints about the hand-overs it found."""
        found = self.handovers()
        if not found:
            return "Hand-overs: no ticket recognised as one (no flag, tool call or recurring hand-over sentence)."
        how = ", ".join(f"{count} by {by}" for by, count in found.most_common())
        said = "; ".join(f'"{s.text}"' for s in self.learned)
        return f"Hand-overs: {sum(found.values())} of {len(self.tickets)} tickets ({how})" + (
            f"; learnt sentence: {said}." if said else "."
        )


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
        parsed = to_messages(record)
        if isinstance(parsed, str):
            skipped.append(JsonlProblem(path, number, parsed))
            continue
        messages, transfer, found_by = parsed
        if messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": system_prompt})
        tickets.append(Ticket(number, messages, transfer, found_by))
    if not tickets:
        reasons = "; ".join(str(p) for p in skipped[:3]) or "the file is empty"
        raise UserError(f"No usable conversations in {path} ({len(skipped)} line(s) skipped: {reasons}).")
    learned = learn([final_exchange(t.messages) for t in tickets])
    tickets = [
        Ticket(t.line, t.messages, Transfer(), "learned sentence")
        if t.handover is None and contains(t.messages[-1]["content"], learned)
        else t
        for t in tickets
    ]
    return Tickets(path, tickets, skipped, hashlib.sha256(path.read_bytes()).hexdigest(), learned)
