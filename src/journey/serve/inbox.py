"""The agents' side: the inbox page and its JSON API, behind the agent key.

The key comes from the environment variable named by `serve.agent_key_env`; requests send
it as `Authorization: Bearer <key>`. Without a configured key the API refuses everyone.
"""

from __future__ import annotations

import hashlib
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import FileResponse

from journey.serve.auth import bearer, matches
from journey.serve.deps import State, spend
from journey.serve.errors import ApiError
from journey.serve.schemas import (
    AgentCommand,
    AgentMessage,
    conversation_view,
    ensure_size,
    inbox_view,
    message_view,
    transcript_view,
)
from journey.serve.store import HANDED_OVER, InboxItem

STATIC = FilePath(__file__).parent / "static"
ConversationId = Annotated[str, Path(min_length=1, max_length=64)]
STATUSES = {"handed_over": HANDED_OVER, "resolved": ("resolved",), "all": (*HANDED_OVER, "resolved")}


async def require_agent(request: Request, state: State, authorization: Annotated[str | None, Header()] = None) -> None:
    """401 unless the bearer token equals the agent key (compared in constant time); failures are rate limited."""
    keys = [hashlib.sha256(state.agent_key.encode()).digest()] if state.agent_key else []
    if matches(bearer(authorization), keys):
        return
    spend(state, "agent-auth", request)
    raise ApiError(401, "Missing or invalid agent key.", "invalid_agent_key", headers={"WWW-Authenticate": "Bearer"})


page = APIRouter()
api = APIRouter(prefix="/agent/api", dependencies=[Depends(require_agent)])


@page.get("/agent", include_in_schema=False)
def inbox_page() -> FileResponse:
    return FileResponse(STATIC / "agent.html")


@api.get("/conversations")
def list_conversations(state: State, status: Literal["handed_over", "resolved", "all"] = "handed_over") -> dict:
    """Handed-over conversations, longest waiting first."""
    return {"conversations": [inbox_view(item) for item in state.store.inbox(STATUSES[status])]}


@api.get("/conversations/{conversation_id}")
def read_conversation(conversation_id: ConversationId, state: State) -> dict:
    """The whole transcript, with the passages and lookups the bot was given for each of its replies, the
    customer's rating of each answer and their 1-5 score of the conversation."""
    store = state.store
    conversation = store.conversation(conversation_id)
    messages = store.messages(conversation_id)
    handover = store.handover(conversation_id)
    item = InboxItem(conversation, handover, messages[-1]) if handover else None
    view = inbox_view(item) if item else conversation_view(conversation, for_agent=True)
    ratings, satisfaction = store.ratings(conversation_id), store.satisfaction(conversation_id)
    return view | transcript_view(messages, ratings, satisfaction, for_agent=True)


@api.post("/conversations/{conversation_id}/claim")
async def claim(conversation_id: ConversationId, body: AgentCommand, state: State) -> dict:
    return conversation_view(await state.conversations.claim(conversation_id, body.agent), for_agent=True)


@api.post("/conversations/{conversation_id}/messages", status_code=201)
async def reply(conversation_id: ConversationId, body: AgentMessage, state: State) -> dict:
    content = ensure_size(body.content, state.settings.max_message_chars)
    return message_view(await state.conversations.agent_reply(conversation_id, body.agent, content), for_agent=True)


@api.post("/conversations/{conversation_id}/resolve")
async def resolve(conversation_id: ConversationId, body: AgentCommand, state: State) -> dict:
    conversation = await state.conversations.close_handover(conversation_id, body.agent, "resolved")
    return conversation_view(conversation, for_agent=True)


@api.post("/conversations/{conversation_id}/handback")
async def hand_back(conversation_id: ConversationId, body: AgentCommand, state: State) -> dict:
    """Return the conversation to the bot: it answers the customer's next message again."""
    conversation = await state.conversations.close_handover(conversation_id, body.agent, "handed_back")
    return conversation_view(conversation, for_agent=True)
