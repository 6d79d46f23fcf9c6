"""The development split: tickets `journey finetune` holds out, so the mix can be tuned without eval.jsonl.

A ticket's side is decided by a seeded hash of its conversation (the system turn left out), not by its
line, so reordering the file keeps the split, and identical conversations fall on the same side. Drawn
per stratum — hand-overs and the others — so the split holds its share of hand-overs (1 in 9 on the demo).
`evaluate/dev.py` scores a fine-tuned adapter on it, recomputing it from the settings the adapter recorded.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import replace

from journey.training.tickets import Ticket, Tickets


def dev_split(tickets: list[Ticket], fraction: float, seed: int) -> tuple[list[Ticket], list[Ticket]]:
    """(trained, held out): `fraction` of the hand-over tickets and of the others, chosen by seeded hash."""
    if fraction == 0:
        return list(tickets), []
    held: set[str] = set()
    for stratum in (True, False):
        groups = Counter(_key(t, seed) for t in tickets if (t.handover is not None) is stratum)
        wanted, taken = round(groups.total() * fraction), 0
        for key in sorted(groups):  # whole groups of identical conversations, lowest hash first
            if taken >= wanted:
                break
            held.add(key)
            taken += groups[key]
    trained = [t for t in tickets if _key(t, seed) not in held]
    return trained, [t for t in tickets if _key(t, seed) in held]


def held_out(tickets: Tickets, fraction: float, seed: int) -> tuple[Tickets, list[Ticket]]:
    """The tickets to train on (hand-over counts included) and the development split."""
    trained, dev = dev_split(tickets.tickets, fraction, seed)
    return replace(tickets, tickets=trained), dev


def _key(ticket: Ticket, seed: int) -> str:
    turns = [m for m in ticket.messages if m["role"] != "system"]
    return hashlib.sha256(json.dumps([seed, turns], sort_keys=True).encode()).hexdigest()
