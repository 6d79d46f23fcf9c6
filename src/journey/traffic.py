"""What served traffic measured: the live KPIs of `journey report --live`, as plain aggregates.

serve/analytics.py computes them in SQL from the app database; evaluate renders them beside the
simulation's prediction and calibrates the simulation on them. Both only see these dataclasses:
serve and evaluate are sibling layers and import neither the other (docs/design.md, layering).

Every figure is a sum, so groups add up: the per-set-up figures are the sums of the per-day ones,
and the whole centre's the sum of the set-ups'. A share is (k, n) with a Wilson interval; a mean
is (n, sum, sum of squares) with a normal-approximation interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import datetime

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Share:
    """k of n."""

    k: int = 0
    n: int = 0

    def __add__(self, other: Share) -> Share:
        return Share(self.k + other.k, self.n + other.n)

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None

    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson score interval."""
        if not self.n:
            return None
        p, n = self.k / self.n, self.n
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
        return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Mean:
    """n values by their sum and sum of squares."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def __add__(self, other: Mean) -> Mean:
        return Mean(self.n + other.n, self.total + other.total, self.squares + other.squares)

    @property
    def value(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def std(self) -> float | None:
        """The sample standard deviation."""
        if self.n < 2:
            return None
        return math.sqrt(max(0.0, (self.squares - self.total**2 / self.n) / (self.n - 1)))

    def interval(self) -> tuple[float, float] | None:
        """The 95% normal-approximation interval of the mean (None below two values)."""
        if self.std is None or self.value is None:
            return None
        half = Z95 * self.std / math.sqrt(self.n)
        return self.value - half, self.value + half


@dataclass(frozen=True)
class Regression:
    """Sums for a least-squares line y = a + b·x."""

    n: int = 0
    x: float = 0.0
    y: float = 0.0
    xy: float = 0.0
    xx: float = 0.0

    def __add__(self, other: Regression) -> Regression:
        return Regression(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def line(self) -> tuple[float, float] | None:
        """(intercept, slope), or None without two distinct x values."""
        denominator = self.n * self.xx - self.x**2
        if self.n < 2 or denominator <= 1e-12 * max(1.0, self.n * self.xx):
            return None
        slope = (self.n * self.xy - self.x * self.y) / denominator
        return (self.y - slope * self.x) / self.n, slope


@dataclass(frozen=True)
class Kpis:
    """One group of conversations (a set-up on a day, a set-up, the centre). Times are in seconds."""

    conversations: int = 0
    resolved_by_bot: Share = Share()  # of conversations decided: handed over, or quiet for the reopen window
    handed_over: Share = Share()
    reopened: Share = Share()  # agent resolutions followed by a customer message within the reopen window
    first_reply_bot: Mean = Mean()  # first customer message → first bot reply
    first_reply_human: Mean = Mean()  # hand-over → first agent reply
    resolution_bot: Mean = Mean()  # first customer message → last bot reply, bot-resolved conversations
    resolution_human: Mean = Mean()  # first customer message → the agent's resolution
    csat_bot: Share = Share()  # scores of 4-5 among bot-resolved conversations with a score
    csat_agent: Share = Share()  # the same among handed-over conversations
    agent_seconds: Mean = Mean()  # claim → close, per closed hand-over
    wait_for_agent: Mean = Mean()  # hand-over → claim, per claimed hand-over
    satisfaction_by_wait: Regression = Regression()  # satisfied (0/1) on minutes to the agent's resolution

    def __add__(self, other: Kpis) -> Kpis:
        return Kpis(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def resolution(self) -> Mean:
        """Time to resolution whoever resolved it."""
        return self.resolution_bot + self.resolution_human

    @property
    def csat(self) -> Share:
        return self.csat_bot + self.csat_agent


@dataclass(frozen=True)
class HandoverCount:
    """How many of a set-up's conversations started on one UTC day were handed over for one reason, or to
    one team."""

    setup: str
    day: str  # YYYY-MM-DD, the conversation's start, as in LiveTraffic.days
    by: str  # "reason" | "team"
    label: str  # the reason or team ("(none)" for a hand-over without a team)
    conversations: int


@dataclass(frozen=True)
class LiveTraffic:
    """The app database's traffic since `since` (None: all of it), as of `as_of`."""

    as_of: datetime
    since: datetime | None
    reopen_hours: float
    days: dict[tuple[str, str], Kpis]  # (set-up, UTC day YYYY-MM-DD) -> its KPIs
    handovers: list[HandoverCount] = field(default_factory=list)

    @property
    def setups(self) -> list[str]:
        return sorted({setup for setup, _ in self.days})

    @property
    def day_names(self) -> list[str]:
        return sorted({day for _, day in self.days})

    def by_setup(self) -> dict[str, Kpis]:
        totals: dict[str, Kpis] = {}
        for (setup, _), kpis in sorted(self.days.items()):
            totals[setup] = totals.get(setup, Kpis()) + kpis
        return totals

    def total(self) -> Kpis:
        return sum(self.days.values(), Kpis())

    def handovers_by_setup(self) -> dict[tuple[str, str, str], int]:
        """(set-up, "reason" | "team", label) -> conversations handed over, all days together."""
        totals: dict[tuple[str, str, str], int] = {}
        for count in self.handovers:
            key = (count.setup, count.by, count.label)
            totals[key] = totals.get(key, 0) + count.conversations
        return totals

    @property
    def conversations(self) -> int:
        return sum(kpis.conversations for kpis in self.days.values())
