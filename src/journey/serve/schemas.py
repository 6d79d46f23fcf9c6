"""Wire formats: the request bodies the server accepts and the JSON views it returns."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from journey.assistant import Reply
from journey.serve.errors import ApiError
from journey.serve.store import Conversation as StoredConversation
from journey.serve.store import InboxItem, Message, as_utc

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


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


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request. Sampling options are accepted and ignored: the workspace's settings rule."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False

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
class NewConversation(BaseModel):
    customer: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class CustomerMessage(BaseModel):
    content: Text
    client_id: ClientId | None = None


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


def reply_meta(reply: Reply) -> dict[str, Any]:
    """Hand-over decision, citations and what the bot was given — JSON-safe (lookup rows may hold dates)."""
    context = reply.context
    meta = {
        "handed_over": reply.handed_over,
        "reason": reply.reason,
        "citations": reply.citations,
        "passages": [asdict(p) for p in context.passages] if context else [],
        "lookups": [asdict(r) for r in context.lookups] if context else [],
        "warnings": reply.warnings,
    }
    return json.loads(json.dumps(meta, default=str))


def message_view(message: Message, *, for_agent: bool = False) -> dict[str, Any]:
    """A message as the chat page (sources only) or the inbox (also the passages and the reason) shows it."""
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
    }
    if for_agent:
        view |= {"reason": meta.get("reason"), "passages": meta.get("passages", []), "lookups": meta.get("lookups", [])}
    return view


def conversation_view(conversation: StoredConversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "customer": conversation.customer,
        "status": conversation.status,
        "agent": conversation.agent,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
    }


def inbox_view(item: InboxItem) -> dict[str, Any]:
    """A handed-over conversation in the inbox list; `waiting_s` runs until an agent claims it."""
    handover = item.handover
    until = as_utc(handover.claimed_at) if handover.claimed_at else datetime.now(UTC)
    last = item.last_message
    return conversation_view(item.conversation) | {
        "reason": handover.reason,
        "handed_over_at": iso(handover.created_at),
        "waiting_s": round((until - as_utc(handover.created_at)).total_seconds(), 1),
        "last_message": {"role": last.role, "content": last.content[:200]} if last else None,
    }
