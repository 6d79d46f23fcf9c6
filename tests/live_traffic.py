"""A small, known traffic set written through the app database's Store, at chosen times.

The Store stamps every row with the current time; `Traffic` calls the Store as `journey serve`
does (answers, hand-overs, claims, resolutions, ratings and scores), then moves the new row to
the moment the test wants, so every KPI can be worked out by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from journey.serve.store import Conversation, Handover, Message, Store

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
AS_OF = START + timedelta(days=10)


def at(hh_mm_ss: str, day: int = 0) -> datetime:
    """A moment on START's day (+ `day` days): "09:30:05"."""
    h, m, *s = (int(part) for part in hh_mm_ss.split(":"))
    return START.replace(hour=h, minute=m, second=s[0] if s else 0) + timedelta(days=day)


class Traffic:
    """Conversations written through `store`, each row moved to its given time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _stamp(self, table, row_id, **times: datetime) -> None:
        with self.store.engine.begin() as connection:
            connection.execute(update(table).where(table.c.id == row_id).values(**times))

    def conversation(self, setup: str, when: datetime) -> str:
        conversation = self.store.create_conversation("customer", setup)
        self._stamp(Conversation.__table__, conversation.id, created_at=when, updated_at=when)
        return conversation.id

    def customer(self, cid: str, when: datetime) -> int:
        message, _ = self.store.add_customer_message(cid, "a question", None)
        self._stamp(Message.__table__, message.id, created_at=when)
        return message.id

    def bot(self, cid: str, when: datetime, handover: str | None = None, team: str | None = None) -> int:
        message = self.store.add_bot_reply(cid, "an answer", {}, handover)
        self._stamp(Message.__table__, message.id, created_at=when)
        if handover is not None:
            self._stamp(Handover.__table__, self.store.handover(cid).id, created_at=when, team=team)
        return message.id

    def claim(self, cid: str, when: datetime) -> None:
        self.store.claim(cid, "ada")
        self._stamp(Handover.__table__, self.store.handover(cid).id, claimed_at=when)

    def agent(self, cid: str, when: datetime) -> None:
        message = self.store.agent_reply(cid, "ada", "an agent's answer")
        self._stamp(Message.__table__, message.id, created_at=when)

    def close(self, cid: str, when: datetime, outcome: str = "resolved") -> None:
        self.store.close_handover(cid, "ada", outcome)
        self._stamp(Handover.__table__, self.store.handover(cid).id, closed_at=when)

    def solved(self, cid: str, when: datetime) -> None:
        """The customer says the bot's answer solved it."""
        self.store.resolve_by_customer(cid)
        self._stamp(Conversation.__table__, cid, resolved_at=when)

    def rate(self, cid: str, message_id: int, value: int) -> None:
        self.store.rate_answer(cid, message_id, value)

    def score(self, cid: str, score: int) -> None:
        self.store.rate_conversation(cid, score)


def known_traffic(store: Store) -> Traffic:
    """Eight conversations over two days and two set-ups, two answered an hour before AS_OF (see the test's sums)."""
    t = Traffic(store)
    # augmented, day 0
    a = t.conversation("augmented", at("09:00"))
    t.customer(a, at("09:00"))
    t.bot(a, at("09:00:30"))  # resolved by the bot in 30 s
    t.solved(a, at("09:01"))
    t.score(a, 5)
    b = t.conversation("augmented", at("09:10"))
    t.customer(b, at("09:10"))
    t.bot(b, at("09:10:20"))
    t.customer(b, at("09:15"))
    t.bot(b, at("09:15:40"))  # resolved by the bot in 340 s, first reply in 20 s
    t.solved(b, at("09:16"))
    t.score(b, 3)
    c = t.conversation("augmented", at("09:20"))
    t.customer(c, at("09:20"))
    t.rate(c, t.bot(c, at("09:20:10")), -1)  # rated down: not resolved
    d = t.conversation("augmented", at("09:30"))
    t.customer(d, at("09:30"))
    t.bot(d, at("09:30:05"), handover="legal", team="legal")
    t.claim(d, at("09:40"))
    t.agent(d, at("09:41"))
    t.close(d, at("09:50"))
    t.score(d, 4)
    e = t.conversation("augmented", at("09:45"))
    t.customer(e, at("09:45"))
    t.rate(e, t.bot(e, at("09:45:10"), handover="asked for a human"), 1)
    t.claim(e, at("10:00"))
    t.agent(e, at("10:05"))
    t.close(e, at("10:15"))
    t.customer(e, at("11:00"))  # back within 24 h: the agent's resolution is reopened
    t.bot(e, at("11:00:10"))
    t.score(e, 2)
    # augmented, day 1
    f = t.conversation("augmented", at("10:00", day=1))
    t.customer(f, at("10:00", day=1))
    t.bot(f, at("10:00:15", day=1))
    t.solved(f, at("10:01", day=1))
    t.score(f, 4)
    # as-is, day 0
    g = t.conversation("as-is", at("12:00"))
    t.customer(g, at("12:00"))
    t.bot(g, at("12:00:50"), handover="legal", team="legal")
    t.claim(g, at("12:10"))
    t.agent(g, at("12:30"))
    t.close(g, at("12:40"), outcome="handed_back")
    h = t.conversation("as-is", at("13:00"))
    t.customer(h, at("13:00"))
    t.bot(h, at("13:01"))
    t.solved(h, at("13:02"))
    t.score(h, 5)
    # as-is, answered an hour before AS_OF: i is still open (the customer may come back), j is decided: its
    # customer said the answer solved it
    hour_ago = AS_OF - timedelta(hours=1)
    i, j = t.conversation("as-is", hour_ago), t.conversation("as-is", hour_ago)
    for cid in (i, j):
        t.customer(cid, hour_ago)
        t.bot(cid, hour_ago + timedelta(seconds=8))
    t.solved(j, hour_ago + timedelta(seconds=30))
    return t
