"""The JSONL lines of any demo company's tickets.jsonl and eval.jsonl, in the contracts of docs/design.md."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Protocol

Message = dict[str, str]


class Person(Protocol):
    first_name: str
    last_name: str


def customer_message(
    rng: random.Random, text: str, people: Sequence[Person], *, signed_share: float,
    openers: tuple[str, ...], named_closers: tuple[str, ...], plain_closers: tuple[str, ...],
) -> tuple[str, str | None]:  # fmt: skip
    """`text` as a customer writes it: an opener, then a closer signed by one of `people` (`signed_share` of
    the time, `{first}`/`{last}` filled) or an unsigned one; and the first name to greet (None if unsigned)."""
    opener = rng.choice(openers)
    if rng.random() < signed_share:
        person = rng.choice(people)
        closer = rng.choice(named_closers).format(first=person.first_name, last=person.last_name)
        return f"{opener}{text}{closer}", person.first_name
    return f"{opener}{text}{rng.choice(plain_closers)}", None


def user(content: str) -> Message:
    return {"role": "user", "content": content}


def assistant(content: str) -> Message:
    return {"role": "assistant", "content": content}


def ticket_line(index: int, conversation: list[Message], system_prompt: str) -> str:
    """One tickets.jsonl line: mostly chat format, every 16th with the system prompt, every 45th (one exchange
    long) as prompt/completion — all three forms the contract accepts."""
    if index % 45 == 7 and len(conversation) == 2:
        record: dict[str, object] = {"prompt": conversation[0]["content"], "completion": conversation[1]["content"]}
    elif index % 16 == 3:
        record = {"messages": [{"role": "system", "content": system_prompt}, *conversation]}
    else:
        record = {"messages": conversation}
    return json.dumps(record, ensure_ascii=False)


def eval_row(question: str, reference: str, facts: list[str], category: str, *, escalate: bool = False) -> dict:
    """One eval question (its id is given when the rows are numbered)."""
    return {"question": question, "reference": reference, "facts": facts, "escalate": escalate,
            "category": category}  # fmt: skip


def eval_lines(rows: list[dict]) -> list[str]:
    """The eval.jsonl lines of `rows`, in their order, with ids q-001, q-002, ..."""
    return [json.dumps({"id": f"q-{n:03d}", **row}, ensure_ascii=False) for n, row in enumerate(rows, start=1)]
