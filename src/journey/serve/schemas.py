"""Wire formats: the request bodies the server accepts and the JSON views it returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from journey.assistant import Reply
from journey.assistant.records import ReplyRecord
from journey.serve.errors import ApiError
from journey.serve.store import AnswerRating, InboxItem, Message, Satisfaction, as_utc
from journey.serve.store import Conversation as StoredConversation

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# A customer's identity: fields named like the lookups' `requires` columns, with one-line values.
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
FieldValue = Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=r"^[^\n\r]*$")]
IdentityFields = Annotated[dict[FieldName, FieldValue], Field(min_length=1, max_length=8)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


# -- OpenAI-compatible requests -------------------------------------------------------
class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart]

    @property
    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "".join(part.text for part in self.content)


class JourneyOptions(BaseModel):
    """journey's extra request field. `customer`: the verified identity of the customer the request is for
    (e.g. `{"email": "ada@example.com"}`), vouched for by the key holder."""

    model_config = ConfigDict(extra="forbid")

    customer: IdentityFields | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request, plus journey's `journey` field. Sampling options are accepted and ignored:
    the workspace's settings rule."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    journey: JourneyOptions = Field(default_factory=JourneyOptions)

    @model_validator(mode="after")
    def _ends_with_question(self) -> ChatCompletionRequest:
        if self.messages[-1].role != "user":
            raise ValueError("the last message must have role 'user'")
        if not self.messages[-1].text.strip():
            raise ValueError("the last message is empty")
        return self

    def history(self) -> list[dict[str, str]]:
        """Earlier user and assistant turns (client system prompts are ignored: the workspace sets it)."""
        return [{"role": m.role, "content": m.text} for m in self.messages[:-1] if m.role in ("user", "assistant")]


# -- chat page and inbox requests ----------------------------------------------------
class SignedIdentity(BaseModel):
    """The customer's identity as the embedding site signed it (serve/identity.py)."""

    model_config = ConfigDict(extra="forbid")

    fields: IdentityFields
    expires: int
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]

    @model_validator(mode="after")
    def _expires_is_not_a_field(self) -> SignedIdentity:
        if "expires" in self.fields:
            raise ValueError("'expires' is the signature's expiry, not an identity field")
        return self


class NewConversation(BaseModel):
    customer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    identity: SignedIdentity | None = None


class CustomerMessage(BaseModel):
    content: Text
    client_id: ClientId | None = None


class Feedback(BaseModel):
    """What every rating carries: an optional comment (blank is none). Values are checked strictly: `true`
    or `"1"` is not a rating."""

    model_config = ConfigDict(extra="forbid", strict=True)

    comment: Comment | None = None

    @property
    def text(self) -> str | None:
        return self.comment or None


class AnswerFeedback(Feedback):
    """A thumb on a bot answer: +1 (helpful) or -1 (not helpful)."""

    value: int

    @field_validator("value")
    @classmethod
    def _a_thumb(cls, value: int) -> int:
        if value not in (1, -1):
            raise ValueError("must be 1 (helpful) or -1 (not helpful)")
        return value


class SatisfactionScore(Feedback):
    """How satisfied the customer is with a resolved conversation, 1 (very dissatisfied) to 5 (very satisfied)."""

    score: Annotated[int, Field(ge=1, le=5)]


class AgentCommand(BaseModel):
    agent: Name


class AgentMessage(AgentCommand):
    content: Text


def ensure_size(text: str, max_chars: int) -> str:
    """Refuse a message longer than `max_chars` with 413."""
    if len(text) > max_chars:
        raise ApiError(413, f"The message is longer than {max_chars} characters.", "message_too_long")
    return text


# -- views -------------------------------------------------------------------------
def iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None


def reply_meta(reply: Reply, *, raw: bool = False) -> dict[str, Any]:
    """The reply's record (assistant/records.py), JSON-safe: hand-over decision, citations, what the bot
    was given and what the answer cost.

    By default passages and lookups are named only (id, title, source, score; lookup name, description
    and the parameters the caller sent); `raw` adds the passage texts and the lookup rows — for data
    keys and the agents' inbox only (docs/security.md).
    """
    return ReplyRecord.from_reply(reply, raw=raw).json_view()


def rating_view(rating: AnswerRating | Satisfaction | None) -> dict[str, Any] | None:
    """A customer's rating of an answer (`value`) or of a conversation (`score`), with its comment."""
    if rating is None:
        return None
    grade = {"value": rating.value} if isinstance(rating, AnswerRating) else {"score": rating.score}
    return grade | {"comment": rating.comment, "rated_at": iso(rating.updated_at)}


def message_view(message: Message, *, for_agent: bool = False, rating: AnswerRating | None = None) -> dict[str, Any]:
    """A message as the chat page (sources only) or the inbox (also the passages and the reason) shows it,
    with the customer's rating if it is a rated bot answer."""
    meta = message.meta or {}
    view = {
        "id": message.id,
        "role": message.role,
        "author": message.author,
        "content": message.content,
        "client_id": message.client_id,
        "created_at": iso(message.created_at),
        "sources": meta.get("citations", []),
        "handed_over": meta.get("handed_over", False),
        "rating": rating_view(rating),
    }
    if for_agent:
        view |= {"reason": meta.get("reason"), "passages": meta.get("passages", []), "lookups": meta.get("lookups", [])}
    return view


def transcript_view(
    messages: list[Message],
    ratings: dict[int, AnswerRating],
    satisfaction: Satisfaction | None,
    *,
    for_agent: bool = False,
) -> dict[str, Any]:
    """The messages, each bot answer with its rating, and the conversation's satisfaction score."""
    views = [message_view(m, for_agent=for_agent, rating=ratings.get(m.id)) for m in messages]
    return {"messages": views, "satisfaction": rating_view(satisfaction)}


def conversation_view(conversation: StoredConversation, *, for_agent: bool = False) -> dict[str, Any]:
    """A conversation as its customer sees it (whether their identity is verified; who resolved it) or an agent
    (also which identity)."""
    view = {
        "id": conversation.id,
        "customer": conversation.customer,
        "verified": bool(conversation.identity),
        "status": conversation.status,
        "agent": conversation.agent,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "resolved_by": conversation.resolved_by,  # bot | agent, once resolved: it may be scored from then on
        "resolved_at": iso(conversation.resolved_at),
    }
    if for_agent:
        view["identity"] = conversation.identity or {}
    return view


def inbox_view(item: InboxItem) -> dict[str, Any]:
    """A handed-over conversation in the inbox list; `waiting_s` runs until an agent claims it."""
    handover = item.handover
    until = as_utc(handover.claimed_at) if handover.claimed_at else datetime.now(UTC)
    last = item.last_message
    return conversation_view(item.conversation, for_agent=True) | {
        "reason": handover.reason,
        "handed_over_at": iso(handover.created_at),
        "waiting_s": round((until - as_utc(handover.created_at)).total_seconds(), 1),
        "last_message": {"role": last.role, "content": last.content[:200]} if last else None,
    }
