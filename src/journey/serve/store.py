"""The app database: conversations, messages, hand-overs, agent actions and customer feedback (SQLAlchemy 2 +
Alembic).

A conversation's `status` says who answers it:
`bot` → the assistant; `waiting` → handed over (by the bot, or because the customer asked for a
person), no agent yet; `agent` → claimed by a human agent; `resolved` → an agent closed the case,
or the customer said the bot's answer solved it (a new customer message goes to the bot again).
The bot writes only in `bot` and `resolved` conversations — enforced here, so nothing can make it
speak after a hand-over until an agent hands the conversation back.

Feedback: the customer may rate each bot answer (+1/-1, with a comment) and, once the conversation
has been resolved, the conversation (1-5); rating again replaces the rating — one row each.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from journey.errors import UserError

MIGRATIONS = Path(__file__).parent / "migrations"
BOT_CAN_SPEAK = ("bot", "resolved")
HANDED_OVER = ("waiting", "agent")
CUSTOMER_REQUEST = "customer"  # the hand-over reason when the customer asks for a person
ANSWER_VALUES = (1, -1)
SCORES = range(1, 6)
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}  # INSERT ... ON CONFLICT DO UPDATE


class NotFound(LookupError):
    """No conversation with that id."""

    code = "conversation_not_found"


class MessageNotFound(NotFound):
    """No message with that id in the conversation."""

    code = "message_not_found"


class Conflict(RuntimeError):
    """The action does not fit the conversation's current state."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer: Mapped[str] = mapped_column(String(120))
    setup: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="bot", index=True)
    agent: Mapped[str | None] = mapped_column(String(120))
    identity: Mapped[dict[str, Any] | None]  # the customer's verified identity fields (serve/identity.py)
    resolved_at: Mapped[datetime | None]  # the latest resolution; kept when the customer writes again
    resolved_by: Mapped[str | None] = mapped_column(String(16))  # bot (the customer said so) | agent
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("conversation_id", "client_id", name="uq_messages_client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # customer | bot | agent
    author: Mapped[str | None] = mapped_column(String(120))
    content: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))  # the sender's idempotency key
    meta: Mapped[dict[str, Any] | None]  # bot replies: hand-over, citations, passages
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Handover(Base):
    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    reason: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # resolved | handed_back
    team: Mapped[str | None] = mapped_column(String(64))  # the escalation team the hand-over names


class AgentAction(Base):
    __tablename__ = "agent_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"))
    agent: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(16))  # claim | reply | resolve | handback
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnswerRating(Base):
    """A customer's thumb on one bot answer; rating again replaces it (the last rating counts)."""

    __tablename__ = "answer_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    value: Mapped[int] = mapped_column(Integer)  # +1 thumbs up, -1 thumbs down
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Satisfaction(Base):
    """A customer's 1-5 satisfaction score for a resolved conversation; the last one counts."""

    __tablename__ = "satisfaction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), unique=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class InboxItem:
    """A handed-over conversation as the inbox lists it."""

    conversation: Conversation
    handover: Handover
    last_message: Message | None


def connect(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys, and its folder is created.

    A PostgreSQL URL without a driver (`postgresql://…`, or `postgres://…` as hosting providers
    write it) uses psycopg 3 (`pip install "psycopg[binary]"`).
    """
    is_sqlite = url.startswith("sqlite")
    if is_sqlite and url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        engine = create_engine(url, connect_args={"check_same_thread": False} if is_sqlite else {})
    except ModuleNotFoundError as exc:
        raise UserError(f"The database driver {exc.name} is not installed: pip install it.") from None
    if is_sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

    return engine


def migrate(engine: Engine) -> None:
    """Bring the database schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class Store:
    """Repository over the app database; every method is one short transaction (call it off the event loop)."""

    def __init__(self, url: str) -> None:
        self.engine = connect(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def ping(self) -> None:
        with self._session() as session:
            session.execute(select(1))

    def close(self) -> None:
        self.engine.dispose()

    # -- customers -----------------------------------------------------------------
    def create_conversation(self, customer: str, setup: str, identity: dict[str, str] | None = None) -> Conversation:
        """A new conversation with the bot; its id, unguessable, is the customer's key to it."""
        conversation = Conversation(
            id=secrets.token_urlsafe(24), customer=customer, setup=setup, status="bot", identity=identity or None
        )
        with self._session() as session:
            session.add(conversation)
        return conversation

    def conversation(self, conversation_id: str) -> Conversation:
        with self._session() as session:
            return _get(session, conversation_id)

    def messages(self, conversation_id: str, *, after: int = 0) -> list[Message]:
        with self._session() as session:
            query = (
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.id > after)
                .order_by(Message.id)
            )
            return list(session.scalars(query))

    def add_customer_message(self, conversation_id: str, content: str, client_id: str | None) -> tuple[Message, bool]:
        """Store a customer's message once per `client_id`; returns (message, whether it is new)."""
        try:
            with self._session() as session:
                conversation = _get(session, conversation_id)
                if conversation.status == "resolved":
                    conversation.status = "bot"  # a new enquiry after a closed case
                message = _add_message(session, conversation, "customer", content, client_id=client_id)
            return message, True
        except IntegrityError:
            with self._session() as session:
                query = select(Message).where(
                    Message.conversation_id == conversation_id, Message.client_id == client_id
                )
                existing = session.scalars(query).first()
            if existing is None:
                raise
            return existing, False

    def add_bot_reply(self, conversation_id: str, content: str, meta: dict[str, Any], handover: str | None) -> Message:
        """Store the bot's reply; `handover` (a reason) hands the conversation to the agents' inbox."""
        with self._session() as session:
            conversation = _get(session, conversation_id)
            if conversation.status not in BOT_CAN_SPEAK:
                raise Conflict("The conversation is with a human agent; the bot stays silent.")
            message = _add_message(session, conversation, "bot", content, meta=meta)
            if handover is not None:
                _hand_over(session, conversation, handover, message.created_at)
        return message

    def request_human(self, conversation_id: str) -> Conversation:
        """The customer asks for a person: hand the conversation over with reason `customer` (once: asking
        again while it is handed over changes nothing)."""
        with self._session() as session:
            conversation = _get(session, conversation_id)
            _hand_over(session, conversation, CUSTOMER_REQUEST, utcnow())
            return conversation

    def resolve_by_customer(self, conversation_id: str) -> Conversation:
        """The customer says the bot's answer solved it: a resolution by the bot (again: changes nothing)."""
        with self._session() as session:
            conversation = _get(session, conversation_id)
            if conversation.status == "resolved":
                return conversation
            if conversation.status != "bot":
                raise Conflict("The conversation is with our support team; they close it.")
            last = _last_message(session, conversation_id)
            if last is None or last.role != "bot":
                raise Conflict("The assistant has not answered yet.")
            now = utcnow()
            resolution = {"status": "resolved", "resolved_at": now, "resolved_by": "bot", "updated_at": now}
            if not _move(session, conversation, ("bot",), **resolution):
                raise Conflict("The conversation changed meanwhile; please try again.")
            return conversation

    # -- feedback ------------------------------------------------------------------
    def rate_answer(
        self, conversation_id: str, message_id: int, value: int, comment: str | None = None
    ) -> AnswerRating:
        """The customer's thumb on a bot answer of this conversation (+1 or -1); the last rating counts."""
        if value not in ANSWER_VALUES:
            raise ValueError(f"An answer is rated +1 or -1, not {value!r}.")
        with self._session() as session:
            _get(session, conversation_id)
            message = session.get(Message, message_id)
            if message is None or message.conversation_id != conversation_id:
                raise MessageNotFound("No such message in this conversation.")
            if message.role != "bot":
                raise Conflict("Only the assistant's answers can be rated.")
            values = {"conversation_id": conversation_id, "value": value, "comment": comment}
            return _upsert(session, AnswerRating, "message_id", message_id, values)

    def rate_conversation(self, conversation_id: str, score: int, comment: str | None = None) -> Satisfaction:
        """The customer's 1-5 score for a conversation that has been resolved; the last score counts."""
        if score not in SCORES:
            raise ValueError(f"A conversation is scored 1 to 5, not {score!r}.")
        with self._session() as session:
            conversation = _get(session, conversation_id)
            if conversation.resolved_at is None:
                raise Conflict("A conversation can be scored once it is resolved.")
            return _upsert(
                session, Satisfaction, "conversation_id", conversation_id, {"score": score, "comment": comment}
            )

    def ratings(self, conversation_id: str) -> dict[int, AnswerRating]:
        """The conversation's answer ratings by message id."""
        with self._session() as session:
            query = select(AnswerRating).where(AnswerRating.conversation_id == conversation_id)
            return {rating.message_id: rating for rating in session.scalars(query)}

    def satisfaction(self, conversation_id: str) -> Satisfaction | None:
        with self._session() as session:
            return session.scalars(select(Satisfaction).where(Satisfaction.conversation_id == conversation_id)).first()

    def unanswered(self) -> list[tuple[str, int]]:
        """(conversation, message) of each bot conversation whose last message is the customer's."""
        last = select(func.max(Message.id).label("id")).group_by(Message.conversation_id).subquery()
        query = (
            select(Message.conversation_id, Message.id)
            .join(last, Message.id == last.c.id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Message.role == "customer", Conversation.status.in_(BOT_CAN_SPEAK))
            .order_by(Message.id)
        )
        with self._session() as session:
            return [(row[0], row[1]) for row in session.execute(query)]

    # -- agents --------------------------------------------------------------------
    def inbox(self, statuses: tuple[str, ...] = HANDED_OVER) -> list[InboxItem]:
        """Conversations in `statuses` with their latest hand-over, longest waiting first."""
        with self._session() as session:
            conversations = session.scalars(select(Conversation).where(Conversation.status.in_(statuses))).all()
            items = []
            for conversation in conversations:
                handover = _latest_handover(session, conversation.id)
                if handover is None:
                    continue
                items.append(InboxItem(conversation, handover, _last_message(session, conversation.id)))
        return sorted(items, key=lambda item: as_utc(item.handover.created_at))

    def handover(self, conversation_id: str) -> Handover | None:
        with self._session() as session:
            return _latest_handover(session, conversation_id)

    def claim(self, conversation_id: str, agent: str) -> Conversation:
        """Assign a waiting conversation to `agent` (atomically: of two agents, one wins)."""
        with self._session() as session:
            conversation = _get(session, conversation_id)
            if conversation.status == "agent" and conversation.agent == agent:
                return conversation
            now = utcnow()
            if not _move(session, conversation, ("waiting",), status="agent", agent=agent, updated_at=now):
                raise Conflict(_not_claimable(conversation))
            handover = _latest_handover(session, conversation_id)
            handover.claimed_by, handover.claimed_at = agent, now
            _record(session, conversation_id, handover, agent, "claim")
            return conversation

    def agent_reply(self, conversation_id: str, agent: str, content: str) -> Message:
        with self._session() as session:
            conversation = _mine(session, conversation_id, agent)
            message = _add_message(session, conversation, "agent", content, author=agent)
            _record(session, conversation_id, _latest_handover(session, conversation_id), agent, "reply")
        return message

    def close_handover(self, conversation_id: str, agent: str, outcome: str) -> Conversation:
        """End the hand-over: `resolved` closes the case, `handed_back` returns the conversation to the bot."""
        with self._session() as session:
            conversation = _get(session, conversation_id)
            if conversation.status not in HANDED_OVER:
                raise Conflict("The conversation is not handed over.")
            if conversation.status == "agent" and conversation.agent != agent:
                raise Conflict(f"The conversation is claimed by {conversation.agent}.")
            handover = _latest_handover(session, conversation_id)
            handover.closed_at, handover.outcome = utcnow(), outcome
            conversation.status = "resolved" if outcome == "resolved" else "bot"
            conversation.updated_at = handover.closed_at
            if outcome == "resolved":
                conversation.resolved_at, conversation.resolved_by = handover.closed_at, "agent"
            _record(session, conversation_id, handover, agent, "resolve" if outcome == "resolved" else "handback")
            return conversation

    def actions(self, conversation_id: str) -> list[AgentAction]:
        with self._session() as session:
            query = select(AgentAction).where(AgentAction.conversation_id == conversation_id).order_by(AgentAction.id)
            return list(session.scalars(query))


def _get(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("No such conversation.")
    return conversation


def _mine(session: Session, conversation_id: str, agent: str) -> Conversation:
    conversation = _get(session, conversation_id)
    if conversation.status != "agent" or conversation.agent != agent:
        raise Conflict(
            "Claim the conversation before replying."
            if conversation.status == "waiting"
            else _not_claimable(conversation)
        )
    return conversation


def _not_claimable(conversation: Conversation) -> str:
    if conversation.status == "agent":
        return f"The conversation is claimed by {conversation.agent}."
    return "The conversation is not waiting for an agent."


def _move(session: Session, conversation: Conversation, allowed: tuple[str, ...], **values: Any) -> bool:
    """Update `conversation` only while its status is one of `allowed` (atomically: of two racing moves, one
    wins); whether it moved. The conversation object is refreshed."""
    moved = session.execute(
        sql_update(Conversation)
        .where(Conversation.id == conversation.id, Conversation.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(conversation)
    return moved.rowcount == 1


def _hand_over(session: Session, conversation: Conversation, reason: str, at: datetime) -> bool:
    """Hand a conversation the bot may speak in to the agents' inbox with `reason`; whether it moved."""
    if not _move(session, conversation, BOT_CAN_SPEAK, status="waiting", agent=None, updated_at=at):
        return False
    session.add(Handover(conversation_id=conversation.id, reason=reason, created_at=at))
    return True


def _upsert(session: Session, model: type[Base], key: str, key_value: Any, values: dict[str, Any]) -> Any:
    """The row of `model` whose unique `key` is `key_value`, inserted or overwritten with `values` — in one
    statement on SQLite and PostgreSQL (the last write counts; never two rows)."""
    now = utcnow()
    query = select(model).filter_by(**{key: key_value}).execution_options(populate_existing=True)
    insert = _UPSERTS.get(session.get_bind().dialect.name)
    if insert is not None:
        statement = insert(model).values({key: key_value, **values, "created_at": now, "updated_at": now})
        session.execute(statement.on_conflict_do_update(index_elements=[key], set_={**values, "updated_at": now}))
        return session.scalars(query).one()
    row = session.scalars(query).first()  # other databases: read, then write (a racing insert hits the unique key)
    if row is None:
        row = model(**{key: key_value}, created_at=now)
        session.add(row)
    for name, value in {**values, "updated_at": now}.items():
        setattr(row, name, value)
    return row


def _last_message(session: Session, conversation_id: str) -> Message | None:
    query = select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id.desc())
    return session.scalars(query).first()


def _latest_handover(session: Session, conversation_id: str) -> Handover | None:
    query = select(Handover).where(Handover.conversation_id == conversation_id).order_by(Handover.id.desc())
    return session.scalars(query).first()


def _add_message(
    session: Session,
    conversation: Conversation,
    role: str,
    content: str,
    *,
    author: str | None = None,
    client_id: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Message:
    message = Message(
        conversation_id=conversation.id, role=role, author=author, content=content, client_id=client_id, meta=meta
    )
    session.add(message)
    session.flush()  # assigns the id; an IntegrityError (repeated client_id) surfaces here
    conversation.updated_at = message.created_at
    return message


def _record(session: Session, conversation_id: str, handover: Handover | None, agent: str, action: str) -> None:
    session.add(
        AgentAction(
            conversation_id=conversation_id, handover_id=handover.id if handover else None, agent=agent, action=action
        )
    )
