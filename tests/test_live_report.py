"""`journey report --live` and `journey simulate --calibrate`: KPIs computed in the app database (SQLite and a
real PostgreSQL server) from conversations stored through the Store, checked against sums worked out by hand."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest
from scipy.stats import binomtest

from journey.serve.analytics import live_traffic
from journey.serve.store import Store
from journey.traffic import Kpis, LiveTraffic, Mean, Regression, Share
from live_traffic import AS_OF, START, known_traffic
from postgres_server import NO_POSTGRES, postgres_binaries, postgres_server

DAY0, DAY1, LATE = "2026-11-02", "2026-11-03", "2026-11-12"


@pytest.fixture
def sqlite_store(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'app.sqlite'}")
    yield store
    store.close()


def measured(store: Store, **options) -> LiveTraffic:
    return live_traffic(store.engine, as_of=AS_OF, **options)


def close(mean: Mean, n: int, total: float, squares: float) -> bool:
    return (
        mean.n == n
        and math.isclose(mean.total, total, abs_tol=1e-3)
        and math.isclose(mean.squares, squares, rel_tol=1e-6, abs_tol=1e-2)
    )


def check_known_traffic(traffic: LiveTraffic) -> None:
    """Every KPI of tests/live_traffic.py's conversations, worked out by hand."""
    assert set(traffic.days) == {("augmented", DAY0), ("augmented", DAY1), ("as-is", DAY0), ("as-is", LATE)}
    aug = traffic.days[("augmented", DAY0)]
    assert aug.conversations == 5
    assert aug.resolved_by_bot == Share(2, 5)  # a and b; c was rated down, d and e handed over
    assert aug.handed_over == Share(2, 5)
    assert aug.reopened == Share(1, 2)  # e's customer wrote again 45 min after the agent resolved it
    assert close(aug.first_reply_bot, 5, 30 + 20 + 10 + 5 + 10, 30**2 + 20**2 + 10**2 + 5**2 + 10**2)
    assert close(aug.first_reply_human, 2, 655 + 1190, 655**2 + 1190**2)
    assert close(aug.resolution_bot, 2, 30 + 340, 30**2 + 340**2)
    assert close(aug.resolution_human, 2, 1200 + 1800, 1200**2 + 1800**2)
    assert aug.csat_bot == Share(1, 2)  # a 5, b 3
    assert aug.csat_agent == Share(1, 2)  # d 4, e 2
    assert close(aug.agent_seconds, 2, 600 + 900, 600**2 + 900**2)
    reg = aug.satisfaction_by_wait  # (20 min, satisfied), (30 min, not)
    assert (reg.n, reg.x, reg.y, reg.xy, reg.xx) == pytest.approx((2, 50, 1, 20, 1300), abs=1e-4)

    assert traffic.days[("augmented", DAY1)].resolved_by_bot == Share(1, 1)
    as_is = traffic.days[("as-is", DAY0)]
    assert as_is.conversations == 2 and as_is.resolved_by_bot == Share(1, 2) and as_is.handed_over == Share(1, 2)
    assert close(as_is.agent_seconds, 1, 1800, 1800**2)  # g was handed back: handled, not resolved
    assert as_is.reopened == Share(0, 0) and as_is.resolution_human.n == 0
    assert close(as_is.first_reply_human, 1, 1750, 1750**2)
    late = traffic.days[("as-is", LATE)]  # answered an hour before AS_OF: not decided yet
    assert late.conversations == 1 and late.resolved_by_bot == Share(0, 0) and close(late.first_reply_bot, 1, 8, 64)

    setups = traffic.by_setup()
    assert setups["augmented"].conversations == 6 and setups["augmented"].resolved_by_bot == Share(3, 6)
    assert setups["augmented"].csat == Share(3, 5)
    assert traffic.total().conversations == 9
    counts = {(h.setup, h.by, h.label): h.conversations for h in traffic.handovers}
    assert counts == {
        ("augmented", "reason", "asked for a human"): 1,
        ("augmented", "reason", "legal"): 1,
        ("augmented", "team", "(none)"): 1,
        ("augmented", "team", "legal"): 1,
        ("as-is", "reason", "legal"): 1,
        ("as-is", "team", "legal"): 1,
    }


def test_kpis_on_sqlite_match_the_hand_computation(sqlite_store: Store) -> None:
    known_traffic(sqlite_store)
    check_known_traffic(measured(sqlite_store))


def test_since_keeps_conversations_started_on_or_after_it(sqlite_store: Store) -> None:
    known_traffic(sqlite_store)
    traffic = measured(sqlite_store, since=START + timedelta(days=1))
    assert set(traffic.days) == {("augmented", DAY1), ("as-is", LATE)}
    assert traffic.handovers == []
    assert traffic.days[("augmented", DAY1)].resolved_by_bot == Share(1, 1)


def test_the_reopen_window_is_a_setting(sqlite_store: Store) -> None:
    known_traffic(sqlite_store)
    # With a 30-minute window, e's customer (back after 45 min) no longer reopens the agent's resolution,
    # and the conversation answered an hour before AS_OF is decided: resolved by the bot.
    traffic = measured(sqlite_store, reopen_hours=0.5)
    assert traffic.days[("augmented", DAY0)].reopened == Share(0, 2)
    assert traffic.days[("as-is", LATE)].resolved_by_bot == Share(1, 1)


def test_empty_database_has_no_groups(sqlite_store: Store) -> None:
    traffic = measured(sqlite_store)
    assert traffic.days == {} and traffic.conversations == 0 and traffic.total() == Kpis()


@pytest.mark.skipif(postgres_binaries() is None, reason=NO_POSTGRES)
def test_kpis_on_postgresql_match_the_hand_computation() -> None:
    with postgres_server() as url:
        store = Store(url)  # postgresql:// takes psycopg 3; the migrations run on PostgreSQL
        try:
            known_traffic(store)
            check_known_traffic(measured(store))
            assert measured(store, since=START + timedelta(days=1)).conversations == 2
        finally:
            store.close()


def test_intervals() -> None:
    share = Share(7, 20)
    wilson = binomtest(7, 20).proportion_ci(confidence_level=0.95, method="wilson")
    assert share.interval() == pytest.approx((wilson.low, wilson.high), abs=1e-9)
    values = [3.0, 5.0, 10.0, 2.0]
    mean = Mean(4, sum(values), sum(v * v for v in values))
    std = math.sqrt(sum((v - 5.0) ** 2 for v in values) / 3)
    assert mean.value == 5.0 and mean.std == pytest.approx(std)
    assert mean.interval() == pytest.approx((5 - 1.959964 * std / 2, 5 + 1.959964 * std / 2))
    assert Share().interval() is None and Mean(1, 2.0, 4.0).interval() is None
    # y = 0.9 - 0.01 x, exactly
    points = [(0.0, 0.9), (10.0, 0.8), (30.0, 0.6)]
    reg = Regression(3, *map(sum, zip(*[(x, y, x * y, x * x) for x, y in points], strict=True)))
    assert reg.line() == pytest.approx((0.9, -0.01))
