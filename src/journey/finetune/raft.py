"""Augmentation-aware training examples (RAFT, Zhang et al. 2024).

A share of conversations get the context the augmented pipeline would give their
question, in the user turn, built by `prompts.user_turn` — the same code as at
inference. Of those whose answer's facts (numbers, prices, codes, dates) occur in
the context, a share lose the passages and lookups holding them, replaced by
distractor passages from other questions, so the model learns to use the context
when it helps and to ignore it when it does not. The rest keep no context block, so
one adapter serves both the finetuned and finetuned+augmented set-ups.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace

from journey.assistant.handover import marker
from journey.assistant.prompts import render_lookup, user_turn
from journey.finetune.contexts import question_of
from journey.knowledge import Context, Passage
from journey.models.messages import Messages, Transfer

_FACT = re.compile(r"[\w€$£%/:.,+-]*\d[\w€$£%/:.,+-]*")


@dataclass
class RaftCounts:
    """How the examples were mixed."""

    with_context: int = 0
    oracle_dropped: int = 0
    without_context: int = 0
    handover_twins: int = 0  # hand-over tickets trained in both forms: with and without context

    def summary(self) -> str:
        """The line `journey finetune` prints after an augmentation-aware run."""
        return (
            f"Augmentation-aware: {self.with_context} with retrieved context ({self.oracle_dropped} of them "
            f"without the passage holding the answer), {self.without_context} without; {self.handover_twins} "
            "hand-overs trained both with and without context."
        )


def with_action(messages: Messages, transfer: Transfer | None) -> Messages:
    """The conversation whose final answer, for a hand-over, opens with the action's marker line; rendered
    through the chat template as the turn's text, so any model can learn it (assistant/handover.py)."""
    if transfer is None:
        return messages
    answer = messages[-1]["content"]
    return [*messages[:-1], {"role": "assistant", "content": f"{marker(transfer)}\n{answer}".strip()}]


def facts(text: str) -> set[str]:
    """The fact-like tokens of a text: anything with a digit, trailing punctuation removed."""
    return {match.rstrip(".,:") for match in _FACT.findall(text)}


def pick(count: int, share: float, seed: int) -> list[int]:
    """A seeded `share` of the indices `range(count)`: the conversations that get context."""
    rng = random.Random(seed)
    return [index for index in range(count) if rng.random() < share]


def mix(
    conversations: list[Messages], contexts: dict[int, Context], *, oracle_drop: float, seed: int
) -> tuple[list[Messages], RaftCounts]:
    """The conversations; those with a confident context in `contexts` (by position) get it in their last user turn."""
    rng = random.Random(seed)
    pool = list({p.id: p for c in contexts.values() for p in c.passages}.values())
    counts = RaftCounts()
    mixed = []
    for position, messages in enumerate(conversations):
        context = contexts.get(position)
        if context is None or not context.confident:
            counts.without_context += 1
            mixed.append(messages)
            continue
        answer_facts = facts(messages[-1]["content"])
        if answer_facts and _holds(context, answer_facts) and rng.random() < oracle_drop:
            context = without_oracle(context, answer_facts, pool, rng)
            counts.oracle_dropped += 1
        counts.with_context += 1
        mixed.append(user_turn_with(messages, context))
    return mixed, counts


def user_turn_with(messages: Messages, context: Context) -> Messages | None:
    """The conversation with `context` in its last user turn, as at inference; None when the context is not
    confident (the pipeline would not answer from it)."""
    if not context.confident:
        return None
    index, question, _ = question_of(messages)
    return [*messages[:index], {"role": "user", "content": user_turn(question, context)}, *messages[index + 1 :]]


def without_oracle(context: Context, answer_facts: set[str], pool: list[Passage], rng: random.Random) -> Context:
    """The context without what holds the answer's facts; dropped passages are replaced by distractors."""
    kept = [p for p in context.passages if not facts(p.title + " " + p.text) & answer_facts]
    lookups = [r for r in context.lookups if not facts(render_lookup(1, r)) & answer_facts]
    present = {p.id for p in context.passages}
    candidates = [p for p in pool if p.id not in present and not facts(p.title + " " + p.text) & answer_facts]
    need = min(len(context.passages) - len(kept), len(candidates))
    return replace(context, passages=kept + rng.sample(candidates, need), lookups=lookups)


def _holds(context: Context, answer_facts: set[str]) -> bool:
    texts = [p.title + " " + p.text for p in context.passages] + [render_lookup(1, r) for r in context.lookups]
    return any(facts(text) & answer_facts for text in texts)
