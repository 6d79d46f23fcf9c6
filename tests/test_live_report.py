"""`journey report --live` and `journey simulate --calibrate`: KPIs computed in the app database (SQLite and a
real PostgreSQL server) from conversations stored through the Store, checked against sums worked out by hand."""

from __future__ import annotations

import math
import tomllib
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from scipy.stats import binomtest

from cli_runner import run_main
from journey.evaluate.live import handover_days_table, handovers_table
from journey.serve.analytics import live_traffic, open_database
from journey.serve.store import MIGRATIONS, Store, connect
from journey.traffic import Kpis, LiveTraffic, Mean, Regression, Share
from live_traffic import AS_OF, START, Traffic, at, known_traffic
from postgres_server import NO_POSTGRES, postgres_binaries, postgres_server
from test_evaluate_report import workspace_with_run
from test_serve import QUESTION, SENSITIVE, bot_replies, client, idle, inbox_action, make_workspace, running, say, start

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
    assert close(aug.wait_for_agent, 2, 595 + 890, 595**2 + 890**2)
    reg = aug.satisfaction_by_wait  # (20 min, satisfied), (30 min, not)
    assert (reg.n, reg.x, reg.y, reg.xy, reg.xx) == pytest.approx((2, 50, 1, 20, 1300), abs=1e-4)

    assert traffic.days[("augmented", DAY1)].resolved_by_bot == Share(1, 1)
    as_is = traffic.days[("as-is", DAY0)]
    assert as_is.conversations == 2 and as_is.resolved_by_bot == Share(1, 2) and as_is.handed_over == Share(1, 2)
    assert close(as_is.agent_seconds, 1, 1800, 1800**2)  # g was handed back: handled, not resolved
    assert close(as_is.wait_for_agent, 1, 550, 550**2)
    assert as_is.reopened == Share(0, 0) and as_is.resolution_human.n == 0
    assert close(as_is.first_reply_human, 1, 1750, 1750**2)
    late = traffic.days[("as-is", LATE)]  # answered an hour before AS_OF: only j, confirmed by its customer, is decided
    assert late.conversations == 2 and late.resolved_by_bot == Share(1, 1) and close(late.first_reply_bot, 2, 16, 128)

    setups = traffic.by_setup()
    assert setups["augmented"].conversations == 6 and setups["augmented"].resolved_by_bot == Share(3, 6)
    assert setups["augmented"].csat == Share(3, 5)
    assert traffic.total().conversations == 10
    counts = {(h.setup, h.day, h.by, h.label): h.conversations for h in traffic.handovers}
    assert counts == {
        ("augmented", DAY0, "reason", "asked for a human"): 1,
        ("augmented", DAY0, "reason", "legal"): 1,
        ("augmented", DAY0, "team", "(none)"): 1,
        ("augmented", DAY0, "team", "legal"): 1,
        ("as-is", DAY0, "reason", "legal"): 1,
        ("as-is", DAY0, "team", "legal"): 1,
    }


def add_day1_handover(store: Store) -> None:
    """One more augmented conversation on day 1, handed over by the legal rule to the legal team, then again
    for the same reason after the agent handed it back (still one conversation for that reason)."""
    t = Traffic(store)
    k = t.conversation("augmented", at("11:00", day=1))
    t.customer(k, at("11:00", day=1))
    t.bot(k, at("11:00:10", day=1), handover="legal", team="legal")
    t.claim(k, at("11:05", day=1))
    t.close(k, at("11:10", day=1), outcome="handed_back")
    t.customer(k, at("11:20", day=1))
    t.bot(k, at("11:20:10", day=1), handover="legal", team="legal")


def check_handovers_per_day(traffic: LiveTraffic) -> None:
    """The hand-over rate by reason and by team per day, and the per-set-up totals as their sums."""
    counts = {(h.setup, h.day, h.by, h.label): h.conversations for h in traffic.handovers}
    assert counts[("augmented", DAY1, "reason", "legal")] == 1  # handed over twice, counted once
    assert counts[("augmented", DAY1, "team", "legal")] == 1
    assert counts[("augmented", DAY0, "reason", "legal")] == 1
    assert traffic.handovers_by_setup()[("augmented", "reason", "legal")] == 2
    assert traffic.handovers_by_setup()[("augmented", "team", "(none)")] == 1
    rows = {(row[0], row[1], row[2], row[3]): row[4] for row in handover_days_table(traffic).rows}
    assert rows[("augmented", DAY0, "reason", "legal")] == "20% (4–62%) of 5"
    assert rows[("augmented", DAY1, "reason", "legal")] == "50% (9–91%) of 2"
    totals = {(row[0], row[1], row[2]): row[3] for row in handovers_table(traffic).rows}
    assert totals[("augmented", "reason", "legal")] == "29% (8–64%) of 7"


def test_kpis_on_sqlite_match_the_hand_computation(sqlite_store: Store) -> None:
    known_traffic(sqlite_store)
    check_known_traffic(measured(sqlite_store))


def test_handover_rate_by_reason_and_team_per_day_on_sqlite(sqlite_store: Store) -> None:
    known_traffic(sqlite_store)
    add_day1_handover(sqlite_store)
    check_handovers_per_day(measured(sqlite_store))


def test_since_keeps_conversations_started_on_or_after_it(sqlite_store: Store) -> None:
    known_traffic(sqlite_store)
    traffic = measured(sqlite_store, since=START + timedelta(days=1))
    assert set(traffic.days) == {("augmented", DAY1), ("as-is", LATE)}
    assert traffic.handovers == []
    assert traffic.days[("augmented", DAY1)].resolved_by_bot == Share(1, 1)
    # 10:30 in UTC+2 is 08:30 UTC on day 1: f (10:00 UTC) is still in, nothing of day 0 is
    in_berlin = datetime(2026, 11, 3, 10, 30, tzinfo=timezone(timedelta(hours=2)))
    assert set(measured(sqlite_store, since=in_berlin).days) == {("augmented", DAY1), ("as-is", LATE)}


def test_the_reopen_window_is_a_setting(sqlite_store: Store) -> None:
    known_traffic(sqlite_store)
    # With a 30-minute window, e's customer (back after 45 min) no longer reopens the agent's resolution,
    # and the conversation answered an hour before AS_OF is decided: resolved by the bot.
    traffic = measured(sqlite_store, reopen_hours=0.5)
    assert traffic.days[("augmented", DAY0)].reopened == Share(0, 2)
    assert traffic.days[("as-is", LATE)].resolved_by_bot == Share(2, 2)


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
            assert measured(store, since=START + timedelta(days=1)).conversations == 3
            add_day1_handover(store)
            check_handovers_per_day(measured(store))
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


# -- the verbs -------------------------------------------------------------------------------------------


def served_workspace(root: Path, *, traffic: bool = True) -> Path:
    """A workspace with an evaluation run of as-is and augmented (tests/test_evaluate_report.py) whose app
    database (serve.database's default) holds the known traffic, or no conversation at all."""
    workspace = workspace_with_run(root)
    store = Store(f"sqlite:///{workspace.state_dir / 'app.sqlite'}")
    if traffic:
        known_traffic(store)
    store.close()
    return root


def test_report_live_prints_the_table_and_writes_the_html(tmp_path: Path, monkeypatch, capsys) -> None:
    root = served_workspace(tmp_path)
    code, output = run_main(monkeypatch, capsys, "report", "--live", "-w", str(root))
    assert code == 0, output
    assert "The journey, measured on served traffic" in output
    assert "10 conversations (all traffic)" in output
    # augmented: 3 of 6 decided conversations resolved by the bot; the run predicts 50% (one question of two)
    assert "50% (19–81%) of 6" in output and "predicted 50%" in output
    page = (root / ".journey" / "reports" / "live" / "report.html").read_text(encoding="utf-8")
    assert page.count("<img") == 4 and "Hand-overs by reason and by team" in page and "asked for a human" in page
    assert "Hand-over rate by reason and by team, per day (UTC)" in page
    assert "Shop &lt;b&gt;" in page  # the project's name is escaped like every other string
    assert (root / ".journey" / "reports" / "live" / "report.md").is_file()


def test_report_live_since(tmp_path: Path, monkeypatch, capsys) -> None:
    root = served_workspace(tmp_path)
    code, output = run_main(monkeypatch, capsys, "report", "--live", "--since", "2026-11-03", "-w", str(root))
    assert code == 0, output
    assert "3 conversations (since 2026-11-03 00:00 UTC)" in output
    code, output = run_main(monkeypatch, capsys, "report", "--live", "--since", "last week", "-w", str(root))
    assert code == 2 and "--since 'last week': give a date or time" in output
    code, output = run_main(monkeypatch, capsys, "report", "--live", "--since", "2027-01-01", "-w", str(root))
    assert code == 2 and "No conversations in the app database since 2027-01-01" in output


def test_report_live_on_an_empty_or_missing_database(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "empty").mkdir()
    empty = served_workspace(tmp_path / "empty", traffic=False)
    code, output = run_main(monkeypatch, capsys, "report", "--live", "-w", str(empty))
    assert code == 2 and "No conversations in the app database: serve some with `journey serve` first." in output
    assert not (empty / ".journey" / "reports" / "live").exists()
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "journey.toml").write_text("")
    code, output = run_main(monkeypatch, capsys, "simulate", "--calibrate", "-w", str(tmp_path / "none"))
    assert code == 2 and "No app database at" in output
    assert not (tmp_path / "none" / ".journey").exists()  # reading creates nothing
    old = tmp_path / "old.sqlite"  # written by a journey before migration 0003
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with connect(f"sqlite:///{old}").begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    (tmp_path / "none" / "journey.toml").write_text(f'[serve]\ndatabase = "sqlite:///{old}"\n')
    code, output = run_main(monkeypatch, capsys, "report", "--live", "-w", str(tmp_path / "none"))
    assert code == 2 and "is at schema 0002, not " in output and "start `journey serve` once" in output
    (tmp_path / "none" / "journey.toml").write_text('[serve]\ndatabase = "postgresql://ada:s3cret@127.0.0.1:1/app"\n')
    code, output = run_main(monkeypatch, capsys, "report", "--live", "-w", str(tmp_path / "none"))
    assert code == 2 and "Cannot read the app database postgresql://ada:***@127.0.0.1:1/app" in output
    assert "s3cret" not in output


def test_simulate_calibrate_fits_and_never_touches_journey_toml(tmp_path: Path, monkeypatch, capsys) -> None:
    root = served_workspace(tmp_path)
    config = (root / "journey.toml").read_text()
    code, output = run_main(monkeypatch, capsys, "simulate", "--calibrate", "-w", str(root))
    assert code == 0, output
    assert (root / "journey.toml").read_text() == config
    written = root / ".journey" / "reports" / "live" / "calibrated-simulation.toml"
    fitted = tomllib.loads(written.read_text())["simulation"]
    # 10 conversations on 3 days of 8 h; hand-overs waited 595, 890, 550 s and were handled 600, 900, 1800 s;
    # bot-resolved scores 5, 3, 4, 5;
    # agent-resolved (20 min, satisfied) and (30 min, not): the line 3 - 0.1 x, its intercept capped at 1.
    assert fitted["arrivals_per_hour"] == pytest.approx(10 / 24, rel=1e-3)
    assert fitted["handle_minutes"] == pytest.approx(1100 / 60, rel=1e-3)
    assert fitted["handle_cv"] == pytest.approx(Mean(3, 3300, 600**2 + 900**2 + 1800**2).std / 1100, rel=1e-3)
    assert fitted["csat_bot_resolved"] == pytest.approx(0.75)
    # 0.42/h × 4 of 9 not resolved by the bot × 18.3 min = 0.057 erlangs: one agent waits 1.1 min < 11.3 observed
    assert fitted["agents"] == 1
    assert fitted["csat_human_no_wait"] == 1 and fitted["csat_loss_per_minute"] == pytest.approx(0.1)
    assert "arrivals_per_hour: 33.4 → 0.4167" in output and "[simulation]" in output
    assert "The simulation against served traffic" in output and "error: current → calibrated" in output
    lines = written.read_text().split("[simulation]\n")[1]  # the user copies them into [simulation]: they validate
    (root / "journey.toml").write_text(config.replace("[simulation]\n", "[simulation]\n" + lines))
    code, output = run_main(monkeypatch, capsys, "simulate", "-w", str(root))
    assert code == 0 and "The simulated support centre" in output and "0.4167 enquiries/hour" in output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_traffic_served_over_http_is_measured(backend: str, tmp_path: Path, tiny_model_dir: Path) -> None:
    """`journey serve` on the app database serve.database names (a real PostgreSQL too): one question the bot
    answers, one the `legal` rule hands over and an agent resolves, measured as they were stored."""
    if backend == "postgresql" and postgres_binaries() is None:
        pytest.skip(NO_POSTGRES)
    with postgres_server() if backend == "postgresql" else nullcontext(f"sqlite:///{tmp_path}/app.sqlite") as url:
        root = make_workspace(tmp_path, tiny_model_dir, database=url)
        with running(root) as server, client(server) as http:
            answered, handed = start(http), start(http, "Grace")
            say(http, answered, QUESTION)
            say(http, handed, SENSITIVE)
            bot_replies(http, answered, 1)
            bot_replies(http, handed, 1)
            inbox_action(http, handed, "claim")
            inbox_action(http, handed, "messages", content="Let me look into it.")
            inbox_action(http, handed, "resolve")
            idle(http)
        engine = open_database(url)
        try:
            traffic = live_traffic(engine, as_of=datetime.now(UTC) + timedelta(days=2))
        finally:
            engine.dispose()
    kpis = traffic.by_setup()["augmented"]
    assert kpis.conversations == 2 and kpis.resolved_by_bot == Share(1, 2) and kpis.handed_over == Share(1, 2)
    assert kpis.first_reply_bot.n == 2 and kpis.first_reply_bot.total > 0
    assert kpis.first_reply_human.n == 1 and kpis.resolution_human.n == 1 and kpis.agent_seconds.n == 1
    assert kpis.resolution_bot.n == 1 and kpis.reopened == Share(0, 1)
    assert [(h.by, h.label, h.conversations) for h in traffic.handovers] == [
        ("reason", "rule:legal", 1),
        ("team", "legal", 1),  # a rule's hand-over names the rule as its team
    ]
    assert {h.day for h in traffic.handovers} == set(traffic.day_names)  # the day the conversation started


def test_satisfaction_rising_with_the_wait_is_calibrated_flat_at_its_mean() -> None:
    """Waits of 1, 3 and 3 min, satisfied after the two longer: the line rises (noise, with few waits); clamping
    only its slope kept the intercept (-0.5, so 0) far under the observed 2/3; the measured loop was 10 points off."""
    from journey.evaluate.calibrate import calibrate
    from journey.workspace import SimulationSettings

    rising = Regression(3, 7.0, 2.0, 6.0, 19.0)
    assert rising.line()[1] > 0
    kpis = Kpis(conversations=3, resolved_by_bot=Share(0, 3), handed_over=Share(3, 3), csat_agent=Share(2, 3),
                resolution_human=Mean(3, 420.0, 3 * 140.0**2 + 3 * 100.0), satisfaction_by_wait=rising)  # fmt: skip
    traffic = LiveTraffic(as_of=AS_OF, since=None, reopen_hours=24.0, days={("as-is", DAY0): kpis})
    new = calibrate(SimulationSettings(), traffic).new
    assert new.csat_loss_per_minute == 0.0 and new.csat_human_no_wait == pytest.approx(2 / 3)
