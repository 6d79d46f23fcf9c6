"""The live KPIs of served traffic, computed in the app database (`journey report --live`).

Three aggregate queries, whatever the traffic's size: one row per (set-up, UTC day) with every
KPI's count, sum and sum of squares (journey/traffic.py), one per (set-up, day, hand-over reason) and
one per (set-up, day, team). The database groups and sums; no conversation is loaded into Python.

Definitions (docs in the README's "Live report" section):
- a conversation is *decided* once it was handed over, its customer said the bot's last answer solved
  it (store.resolve_by_customer), or its last message is `reopen_hours` old;
- *resolved by the bot*: decided, never handed over, the bot's reply is its last message and
  no bot answer in it was rated down. A customer who writes again within `reopen_hours` of
  the bot's answer reopens it (the conversation is not decided until its new last answer is
  that old); an agent's resolution counts as *reopened* when the customer writes again within
  `reopen_hours` of it (store.py sends that message to the bot again);
- time to first reply: first customer message → first bot reply; hand-over → first agent reply;
- time to resolution: first customer message → last bot reply (bot-resolved) or → the hand-over
  closed as resolved; CSAT: share of 4-5 scores; agent time: claim → close of each hand-over;
  wait for an agent: hand-over → claim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import ColumnElement, Float, String, and_, case, distinct, func, or_, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from journey.errors import UserError
from journey.serve.store import MIGRATIONS, AnswerRating, Conversation, Handover, Message, Satisfaction, connect
from journey.traffic import HandoverCount, Kpis, LiveTraffic, Mean, Regression, Share
from journey.workspace import Workspace, resolve_sqlite_url

NO_TEAM = "(none)"


class seconds_between(FunctionElement):
    """`end - start` in seconds, in the database's own date arithmetic."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


class utc_day(FunctionElement):
    """A stored UTC time's day as YYYY-MM-DD."""

    type = String()
    name = "utc_day"
    inherit_cache = True


@compiles(seconds_between)
def _seconds(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC): whole seconds from strftime('%s'), then the microseconds,
    # exact where julianday() would round to milliseconds.
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)

    def whole(moment: str) -> str:
        return f"CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER)"

    return f"({whole(end)} - {whole(start)} + (CAST(substr({end}, 20) AS REAL) - CAST(substr({start}, 20) AS REAL)))"


@compiles(utc_day)
def _day(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


@compiles(utc_day, "sqlite")
def _day_sqlite(element: utc_day, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 1, 10)"  # stored as 'YYYY-MM-DD HH:MM:SS…', UTC


def workspace_traffic(workspace: Workspace, since: datetime | None = None) -> LiveTraffic:
    """The live KPIs of the workspace's app database (serve.database) since `since`."""
    url = resolve_sqlite_url(workspace.settings.serve.database, workspace.root)
    engine = open_database(url)
    try:
        return live_traffic(engine, since=since, reopen_hours=workspace.settings.serve.reopen_hours)
    finally:
        engine.dispose()


def open_database(url: str) -> Engine:
    """An engine on an existing app database at the newest schema; reading it changes nothing."""
    shown = make_url(url).render_as_string()  # the password hidden
    database = make_url(url).database
    if url.startswith("sqlite") and database and database != ":memory:" and not Path(database).is_file():
        raise UserError(f"No app database at {database}: `journey serve` creates it with the first conversation.")
    engine = connect(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise UserError(f"Cannot read the app database {shown}: {getattr(exc, 'orig', None) or exc}") from None
    if current != head:
        engine.dispose()
        raise UserError(
            f"The app database {shown} is at schema {current or 'none'}, not {head}: "
            "start `journey serve` once to bring it up to date."
        )
    return engine


def live_traffic(
    engine: Engine, *, since: datetime | None = None, reopen_hours: float = 24.0, as_of: datetime | None = None
) -> LiveTraffic:
    """The KPIs of the conversations started since `since`, per set-up and UTC day, as of `as_of` (now).

    Naive times are UTC; aware ones are converted (SQLite compares the stored UTC text as written).
    """
    as_of = _utc(as_of or datetime.now(UTC))
    since = _utc(since) if since else None
    with engine.connect() as connection:
        days = {
            (row.setup, row.day): _kpis(row)
            for row in connection.execute(_kpi_query(since, as_of - timedelta(hours=reopen_hours), reopen_hours))
        }
        handovers = [
            HandoverCount(row.setup, row.day, by, row.label, row.conversations)
            for by in ("reason", "team")
            for row in connection.execute(_handover_query(since, by))
        ]
    return LiveTraffic(as_of=as_of, since=since, reopen_hours=reopen_hours, days=days, handovers=handovers)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _started_since(since: datetime | None) -> ColumnElement[bool]:
    conversations = Conversation.__table__
    return conversations.c.created_at >= since if since else conversations.c.id.is_not(None)


def _in_window(column: ColumnElement[str], since: datetime | None) -> ColumnElement[bool]:
    """`column` (a conversation id) belongs to a conversation started since `since`."""
    conversations = Conversation.__table__
    return column.in_(select(conversations.c.id).where(_started_since(since))) if since else column.is_not(None)


def _message_times(since: datetime | None):
    """Per conversation: its first customer, bot and agent messages, its last bot and customer messages."""
    m = Message.__table__
    customer, bot, agent = (m.c.role == role for role in ("customer", "bot", "agent"))
    return (
        select(
            m.c.conversation_id.label("id"),
            func.min(case((customer, m.c.created_at))).label("first_customer"),
            func.min(case((bot, m.c.created_at))).label("first_bot"),
            func.min(case((agent, m.c.created_at))).label("first_agent"),
            func.max(case((bot, m.c.created_at))).label("last_bot"),
            func.max(case((bot, m.c.id))).label("last_bot_id"),
            func.max(case((customer, m.c.id))).label("last_customer_id"),
            func.max(m.c.created_at).label("last_at"),
        )
        .where(_in_window(m.c.conversation_id, since))
        .group_by(m.c.conversation_id)
        .subquery()
    )


def _handover_times(since: datetime | None):
    """Per handed-over conversation: its first hand-over, last resolution, and its agents' handling time."""
    h = Handover.__table__
    handled = seconds_between(h.c.claimed_at, h.c.closed_at)
    waited = seconds_between(h.c.created_at, h.c.claimed_at)
    return (
        select(
            h.c.conversation_id.label("id"),
            func.min(h.c.created_at).label("first"),
            func.max(case((h.c.outcome == "resolved", h.c.closed_at))).label("resolved_at"),
            func.count(handled).label("handled"),
            func.sum(handled).label("handled_s"),
            func.sum(handled * handled).label("handled_ss"),
            func.count(waited).label("waited"),
            func.sum(waited).label("waited_s"),
            func.sum(waited * waited).label("waited_ss"),
        )
        .where(_in_window(h.c.conversation_id, since))
        .group_by(h.c.conversation_id)
        .subquery()
    )


def _reopened(since: datetime | None, reopen_hours: float):
    """Conversations whose customer wrote again within `reopen_hours` of an agent's resolution."""
    h, later = Handover.__table__, Message.__table__.alias("later")
    return (
        select(h.c.conversation_id.label("id"))
        .join(later, later.c.conversation_id == h.c.conversation_id)
        .where(
            _in_window(h.c.conversation_id, since),
            h.c.outcome == "resolved",
            later.c.role == "customer",
            later.c.created_at > h.c.closed_at,
            seconds_between(h.c.closed_at, later.c.created_at) <= reopen_hours * 3600,
        )
        .group_by(h.c.conversation_id)
        .subquery()
    )


def _rated_down(since: datetime | None):
    """Conversations with a bot answer rated down."""
    ratings = AnswerRating.__table__
    return (
        select(ratings.c.conversation_id.label("id"))
        .where(ratings.c.value < 0, _in_window(ratings.c.conversation_id, since))
        .group_by(ratings.c.conversation_id)
        .subquery()
    )


def _kpi_query(since: datetime | None, decided_before: datetime, reopen_hours: float):
    c, scores = Conversation.__table__, Satisfaction.__table__
    messages, handovers = _message_times(since), _handover_times(since)
    reopened, rated_down = _reopened(since, reopen_hours), _rated_down(since)
    handed = handovers.c.id.is_not(None)
    confirmed = and_(c.c.resolved_by == "bot", c.c.resolved_at >= messages.c.last_bot)  # "this solved it"
    decided = or_(handed, confirmed, func.coalesce(messages.c.last_at, c.c.created_at) <= decided_before)
    bot_resolved = and_(
        decided,
        ~handed,
        messages.c.last_bot_id.is_not(None),
        or_(messages.c.last_customer_id.is_(None), messages.c.last_bot_id > messages.c.last_customer_id),
        rated_down.c.id.is_(None),
    )
    agent_resolved = and_(handed, handovers.c.resolved_at.is_not(None))
    # One row per conversation, its flags (0/1) and durations worked out once; materialised, so the
    # aggregate below sums plain columns instead of re-evaluating each expression for every sum.
    per = (
        select(
            c.c.setup.label("setup"),
            utc_day(c.c.created_at).label("day"),
            _flag(handed).label("handed"),
            _flag(decided).label("decided"),
            _flag(bot_resolved).label("bot_resolved"),
            _flag(agent_resolved).label("agent_resolved"),
            _flag(and_(agent_resolved, reopened.c.id.is_not(None))).label("reopened"),
            _flag(scores.c.score.is_not(None)).label("scored"),
            _flag(scores.c.score >= 4).label("satisfied"),
            seconds_between(messages.c.first_customer, messages.c.first_bot).label("first_bot"),
            case((handed, seconds_between(handovers.c.first, messages.c.first_agent))).label("first_human"),
            case((bot_resolved, seconds_between(messages.c.first_customer, messages.c.last_bot))).label(
                "resolution_bot"
            ),
            case((agent_resolved, seconds_between(messages.c.first_customer, handovers.c.resolved_at))).label(
                "resolution_human"
            ),
            handovers.c.handled,
            handovers.c.handled_s,
            handovers.c.handled_ss,
            handovers.c.waited,
            handovers.c.waited_s,
            handovers.c.waited_ss,
        )
        .select_from(
            c.outerjoin(messages, messages.c.id == c.c.id)
            .outerjoin(handovers, handovers.c.id == c.c.id)
            .outerjoin(reopened, reopened.c.id == c.c.id)
            .outerjoin(rated_down, rated_down.c.id == c.c.id)
            .outerjoin(scores, scores.c.conversation_id == c.c.id)
        )
        .where(_started_since(since))
        .cte("per_conversation")
        .prefix_with("MATERIALIZED")
    )
    p = per.c
    wait_min = case((and_(p.agent_resolved == 1, p.scored == 1), p.resolution_human / 60.0))
    columns = [
        p.setup,
        p.day,
        func.count().label("conversations"),
        *_share("resolved", p.bot_resolved, p.decided),
        *_share("handed", p.handed, None),
        *_share("reopened", p.reopened, p.agent_resolved),
        *_mean("first_bot", p.first_bot),
        *_mean("first_human", p.first_human),
        *_mean("resolution_bot", p.resolution_bot),
        *_mean("resolution_human", p.resolution_human),
        *_share("csat_bot", p.bot_resolved * p.satisfied, p.bot_resolved * p.scored),
        *_share("csat_agent", p.handed * p.satisfied, p.handed * p.scored),
        func.sum(p.handled).label("agent_n"),
        func.sum(p.handled_s).label("agent_sum"),
        func.sum(p.handled_ss).label("agent_squares"),
        func.sum(p.waited).label("wait_n"),
        func.sum(p.waited_s).label("wait_sum"),
        func.sum(p.waited_ss).label("wait_squares"),
        func.count(wait_min).label("reg_n"),
        func.sum(wait_min).label("reg_x"),
        func.sum(case((wait_min.is_not(None), p.satisfied))).label("reg_y"),
        func.sum(wait_min * p.satisfied).label("reg_xy"),
        func.sum(wait_min * wait_min).label("reg_xx"),
    ]
    return select(*columns).group_by(p.setup, p.day)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _share(name: str, hit: ColumnElement[int], of: ColumnElement[int] | None) -> list[ColumnElement[Any]]:
    """k and n of a share from 0/1 columns (`of` None: every row)."""
    return [func.sum(hit).label(f"{name}_k"), (func.sum(of) if of is not None else func.count()).label(f"{name}_n")]


def _mean(name: str, value: ColumnElement[float]) -> list[ColumnElement[Any]]:
    return [
        func.count(value).label(f"{name}_n"),
        func.sum(value).label(f"{name}_sum"),
        func.sum(value * value).label(f"{name}_squares"),
    ]


def _handover_query(since: datetime | None, by: str):
    """Conversations handed over per (set-up, UTC day of their start, reason or team): a conversation handed
    over twice for one reason counts once."""
    c, h = Conversation.__table__, Handover.__table__
    label = h.c.reason if by == "reason" else func.coalesce(h.c.team, NO_TEAM)
    day = utc_day(c.c.created_at)
    return (
        select(
            c.c.setup.label("setup"),
            day.label("day"),
            label.label("label"),
            func.count(distinct(c.c.id)).label("conversations"),
        )
        .select_from(h.join(c, c.c.id == h.c.conversation_id))
        .where(_started_since(since))
        .group_by(c.c.setup, day, label)
        .order_by(c.c.setup, day, label)
    )


def _kpis(row: Any) -> Kpis:
    def share(name: str) -> Share:
        return Share(int(getattr(row, f"{name}_k") or 0), int(getattr(row, f"{name}_n") or 0))

    def mean(name: str) -> Mean:
        values = (getattr(row, f"{name}_{part}") for part in ("n", "sum", "squares"))
        count, total_, squares_ = (value or 0 for value in values)
        return Mean(int(count), float(total_), float(squares_))

    return Kpis(
        conversations=int(row.conversations),
        resolved_by_bot=share("resolved"),
        handed_over=share("handed"),
        reopened=share("reopened"),
        first_reply_bot=mean("first_bot"),
        first_reply_human=mean("first_human"),
        resolution_bot=mean("resolution_bot"),
        resolution_human=mean("resolution_human"),
        csat_bot=share("csat_bot"),
        csat_agent=share("csat_agent"),
        agent_seconds=mean("agent"),
        wait_for_agent=mean("wait"),
        satisfaction_by_wait=Regression(
            int(row.reg_n or 0), *(float(getattr(row, f"reg_{p}") or 0) for p in ("x", "y", "xy", "xx"))
        ),
    )
