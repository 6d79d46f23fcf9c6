"""`journey report --live` on 100,000 served conversations: the KPIs computed in the database against
loading every row into Python and computing them there, on SQLite and on PostgreSQL.

The traffic (messages, hand-overs with claims and resolutions, reopenings, ratings, satisfaction
scores) is generated with a fixed seed and bulk-inserted into a freshly migrated app database.
Both computations must agree on every KPI of every (set-up, day) group and on the hand-overs per (set-up, day,
reason or team), else the script exits 1.
PostgreSQL runs as a throwaway server (tests/postgres_server.py); without its binaries it is skipped.

Run: .venv/bin/python benchmarks/bench_live_report.py [--conversations 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from journey.serve.analytics import NO_TEAM, live_traffic
from journey.serve.store import AnswerRating, Conversation, Handover, Message, Satisfaction, Store, as_utc
from journey.traffic import Kpis, Mean, Regression, Share
from postgres_server import NO_POSTGRES, postgres_binaries, postgres_server

SETUPS = ("as-is", "augmented", "finetuned", "finetuned+augmented")
REASONS = ("asked for a human", "legal", "refund over limit", "low confidence")
TEAMS = ("billing", "legal", None)
START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
REOPEN_HOURS = 24.0
GOAL_S = 5.0


def generate(n: int, seed: int = 0) -> dict[str, list[dict]]:
    """Rows for n conversations over DAYS days, by table."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict]] = defaultdict(list)
    message_id = handover_id = 0

    def message(cid: str, role: str, when: datetime) -> int:
        nonlocal message_id
        message_id += 1
        rows["messages"].append(
            {"id": message_id, "conversation_id": cid, "role": role, "content": "…", "created_at": when}
        )
        return message_id

    for i in range(n):
        cid, setup = f"c{i:07d}", SETUPS[i % len(SETUPS)]
        start = START + timedelta(days=int(rng.integers(DAYS)), seconds=float(rng.uniform(8, 18) * 3600))
        conversation = {"id": cid, "customer": "x", "setup": setup, "status": "bot", "created_at": start}
        conversation |= {"resolved_by": None, "resolved_at": None}
        rows["conversations"].append(conversation)
        message(cid, "customer", start)
        now = start + timedelta(seconds=float(rng.uniform(1, 30)))
        bot_messages = [message(cid, "bot", now)]
        if rng.random() < 0.25:  # handed over
            handover_id += 1
            claimed = now + timedelta(minutes=float(rng.exponential(8)))
            message(cid, "agent", claimed + timedelta(minutes=float(rng.uniform(0.5, 3))))
            closed = claimed + timedelta(minutes=float(rng.gamma(2, 5)))
            resolved = rng.random() < 0.9
            if resolved:
                conversation |= {"resolved_by": "agent", "resolved_at": closed}
            rows["handovers"].append(
                {
                    "id": handover_id,
                    "conversation_id": cid,
                    "reason": REASONS[int(rng.integers(len(REASONS)))],
                    "team": TEAMS[int(rng.integers(len(TEAMS)))],
                    "created_at": now,
                    "claimed_by": "ada",
                    "claimed_at": claimed,
                    "closed_at": closed,
                    "outcome": "resolved" if resolved else "handed_back",
                }
            )
            if rng.random() < 0.1:  # the customer comes back, within the reopen window or after it
                back = closed + timedelta(hours=float(rng.uniform(1, 48)))
                message(cid, "customer", back)
                bot_messages.append(message(cid, "bot", back + timedelta(seconds=5)))
        elif rng.random() < 0.3:  # a second turn with the bot
            now += timedelta(minutes=float(rng.uniform(1, 5)))
            message(cid, "customer", now)
            bot_messages.append(message(cid, "bot", now + timedelta(seconds=float(rng.uniform(1, 30)))))
        if conversation["resolved_by"] is None and rng.random() < 0.4:  # "this solved it"
            conversation |= {"resolved_by": "bot", "resolved_at": now + timedelta(seconds=40)}
        conversation["updated_at"] = start
        for bot_message in bot_messages:
            if rng.random() < 0.3:
                value = -1 if rng.random() < 0.2 else 1
                rows["answer_ratings"].append(
                    {
                        "conversation_id": cid,
                        "message_id": bot_message,
                        "value": value,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        if rng.random() < 0.4:
            rows["satisfaction"].append(
                {"conversation_id": cid, "score": int(rng.integers(1, 6)), "created_at": now, "updated_at": now}
            )
    return rows


def fill(url: str, rows: dict[str, list[dict]]) -> tuple[Store, float]:
    """A migrated app database with the rows bulk-inserted; returns the store and the seconds it took."""
    store = Store(url)
    began = time.perf_counter()
    models = (Conversation, Message, Handover, AnswerRating, Satisfaction)  # foreign keys first
    with store.engine.begin() as connection:
        for model in models:
            table = model.__table__
            batch = rows[table.name]
            for first in range(0, len(batch), 50_000):
                connection.execute(insert(table), batch[first : first + 50_000])
    return store, time.perf_counter() - began


def naive_traffic(
    engine: Engine, as_of: datetime, reopen_hours: float
) -> tuple[dict[tuple[str, str], Kpis], Counter[tuple[str, str, str, str]]]:
    """The baseline: load every row of the five tables into Python and compute the same KPIs there, and the
    conversations handed over per (set-up, day, "reason" | "team", label)."""
    with engine.connect() as connection:
        conversations = connection.execute(select(Conversation.__table__)).all()
        messages = connection.execute(select(Message.__table__).order_by(Message.id)).all()
        handovers = connection.execute(select(Handover.__table__).order_by(Handover.id)).all()
        ratings = connection.execute(select(AnswerRating.__table__)).all()
        scores = {row.conversation_id: row.score for row in connection.execute(select(Satisfaction.__table__))}
    by_conversation: dict[str, list] = defaultdict(list)
    for row in messages:
        by_conversation[row.conversation_id].append(row)
    handed: dict[str, list] = defaultdict(list)
    for row in handovers:
        handed[row.conversation_id].append(row)
    rated_down = {row.conversation_id for row in ratings if row.value < 0}
    cutoff = as_of - timedelta(hours=reopen_hours)
    groups: dict[tuple[str, str], Kpis] = {}
    handed_by: Counter[tuple[str, str, str, str]] = Counter()
    for conversation in conversations:
        key = (conversation.setup, as_utc(conversation.created_at).strftime("%Y-%m-%d"))
        for by, labels in (("reason", {h.reason for h in handed[conversation.id]}),
                           ("team", {h.team or NO_TEAM for h in handed[conversation.id]})):  # fmt: skip
            handed_by.update((*key, by, label) for label in labels)
        kpis = _one(
            conversation,
            by_conversation[conversation.id],
            handed[conversation.id],
            rated_down,
            scores.get(conversation.id),
            cutoff,
            reopen_hours,
        )
        groups[key] = groups.get(key, Kpis()) + kpis
    return groups, handed_by


def _one(conversation, messages, handovers, rated_down, score, cutoff, reopen_hours) -> Kpis:
    """One conversation's KPIs, from its rows, by the definitions in journey/serve/analytics.py."""

    def seconds(start: datetime, end: datetime) -> float:
        return (as_utc(end) - as_utc(start)).total_seconds()

    def mean(*values: float) -> Mean:
        return Mean(len(values), sum(values), sum(v * v for v in values))

    times = {role: [m.created_at for m in messages if m.role == role] for role in ("customer", "bot", "agent")}
    last_ids = {role: max((m.id for m in messages if m.role == role), default=None) for role in ("customer", "bot")}
    last_at = max((m.created_at for m in messages), default=conversation.created_at)
    is_handed = bool(handovers)
    confirmed = (
        conversation.resolved_by == "bot"
        and times["bot"]
        and as_utc(conversation.resolved_at) >= as_utc(max(times["bot"]))
    )
    decided = is_handed or confirmed or as_utc(last_at) <= cutoff
    bot_resolved = (
        decided
        and not is_handed
        and last_ids["bot"] is not None
        and (last_ids["customer"] is None or last_ids["bot"] > last_ids["customer"])
        and conversation.id not in rated_down
    )
    resolved_times = [h.closed_at for h in handovers if h.outcome == "resolved"]
    resolved_at = max(resolved_times) if resolved_times else None
    first = min(times["customer"]) if times["customer"] else None
    reopened = any(
        h.outcome == "resolved"
        and as_utc(m.created_at) > as_utc(h.closed_at)
        and seconds(h.closed_at, m.created_at) <= reopen_hours * 3600
        for h in handovers
        for m in messages
        if m.role == "customer"
    )
    handled = [seconds(h.claimed_at, h.closed_at) for h in handovers if h.claimed_at and h.closed_at]
    waited = [seconds(h.created_at, h.claimed_at) for h in handovers if h.claimed_at]
    agent_resolved = is_handed and resolved_at is not None
    wait_min = seconds(first, resolved_at) / 60 if agent_resolved and first else None
    satisfied = score is not None and score >= 4
    regress = wait_min is not None and score is not None
    return Kpis(
        conversations=1,
        resolved_by_bot=Share(int(bot_resolved), int(decided)),
        handed_over=Share(int(is_handed), 1),
        reopened=Share(int(agent_resolved and reopened), int(agent_resolved)),
        first_reply_bot=mean(seconds(first, min(times["bot"]))) if first and times["bot"] else Mean(),
        first_reply_human=mean(seconds(min(h.created_at for h in handovers), min(times["agent"])))
        if is_handed and times["agent"]
        else Mean(),
        resolution_bot=mean(seconds(first, max(times["bot"]))) if bot_resolved and first else Mean(),
        resolution_human=mean(wait_min * 60) if wait_min is not None else Mean(),
        csat_bot=Share(int(bot_resolved and satisfied), int(bot_resolved and score is not None)),
        csat_agent=Share(int(is_handed and satisfied), int(is_handed and score is not None)),
        agent_seconds=mean(*handled),
        wait_for_agent=mean(*waited),
        satisfaction_by_wait=Regression(1, wait_min, float(satisfied), wait_min * satisfied, wait_min**2)
        if regress
        else Regression(),
    )


def agree(a: Kpis, b: Kpis) -> bool:
    """Equal counts, equal sums (to rounding)."""
    for field in fields(Kpis):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, int | Share):
            if x != y:
                return False
        elif x.n != y.n or not all(
            math.isclose(getattr(x, f.name), getattr(y, f.name), rel_tol=1e-9, abs_tol=1e-6 * x.n)
            for f in fields(x)[1:]
        ):
            return False
    return True


def timed(function: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """Median wall-clock and CPU seconds of `repeat` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        began, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def bench(name: str, url: str, rows: dict[str, list[dict]], repeat: int) -> bool:
    store, fill_s = fill(url, rows)
    as_of = START + timedelta(days=DAYS, hours=6)  # the last day's conversations are still in the reopen window
    try:
        ours_s, ours_cpu, traffic = timed(
            lambda: live_traffic(store.engine, as_of=as_of, reopen_hours=REOPEN_HOURS), repeat
        )
        naive_s, naive_cpu, naive = timed(lambda: naive_traffic(store.engine, as_of, REOPEN_HOURS), 1)
    finally:
        store.close()
    naive, naive_handed = naive
    same = set(traffic.days) == set(naive) and all(agree(traffic.days[key], naive[key]) for key in naive)
    same &= Counter({(h.setup, h.day, h.by, h.label): h.conversations for h in traffic.handovers}) == naive_handed
    total = traffic.total()
    # The database server's own CPU time is not this process's: on PostgreSQL the CPU column counts the client only.
    print(
        f"{name:<11} filled in {fill_s:5.1f} s · live report (SQL) {ours_s:6.2f} s (CPU here {ours_cpu:.2f} s) · "
        f"load-all-rows baseline {naive_s:6.2f} s (CPU {naive_cpu:.2f} s) · x{naive_s / ours_s:.1f} · "
        f"goal < {GOAL_S:g} s: {'met' if ours_s < GOAL_S else 'MISSED'} · {len(traffic.days)} groups, "
        f"resolved by bot {total.resolved_by_bot.value:.1%}, {'same KPIs' if same else 'KPIs DIFFER'}",
        flush=True,
    )
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="Timed runs of the SQL report (median).")
    args = parser.parse_args()
    began = time.perf_counter()
    rows = generate(args.conversations)
    counts = ", ".join(f"{len(batch):,} {table}" for table, batch in rows.items())
    print(
        f"Generated {counts} in {time.perf_counter() - began:.1f} s · load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs ({platform.machine()})"
    )
    ok = True
    with tempfile.TemporaryDirectory() as folder:
        ok &= bench("SQLite", f"sqlite:///{folder}/app.sqlite", rows, args.repeat)
    if postgres_binaries() is None:
        print(f"PostgreSQL  skipped: {NO_POSTGRES}")
    else:
        with postgres_server() as url:
            ok &= bench("PostgreSQL", url, rows, args.repeat)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
