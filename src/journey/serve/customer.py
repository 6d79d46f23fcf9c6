"""The customer's side: the chat page and its API (start, post, read, a live event stream, and feedback:
rate an answer, ask for a person, say the bot's answer solved it, score the resolved conversation).

A conversation's id is its customer's key to it (unguessable, from `secrets`): whoever holds it
may read and rate that conversation's bot answers, and no other's (another conversation's message is
a 404, as an unknown one). A conversation may start with the customer's identity, signed by the site
that embeds the chat (serve/identity.py); its lookups then run for that customer, and only that customer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import FileResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from journey.knowledge.identity import ANONYMOUS
from journey.serve.deps import ServeState, State, feedback_limited, rate_limited, spend
from journey.serve.errors import ApiError
from journey.serve.identity import IdentityRefused, verify
from journey.serve.schemas import (
    AnswerFeedback,
    CustomerMessage,
    NewConversation,
    SatisfactionScore,
    conversation_view,
    ensure_size,
    message_view,
    rating_view,
    transcript_view,
)

STATIC = FilePath(__file__).parent / "static"
ConversationId = Annotated[str, Path(min_length=1, max_length=64)]
MessageId = Annotated[int, Path(ge=1)]

router = APIRouter()


@router.get("/", include_in_schema=False)
def chat_page() -> FileResponse:
    return FileResponse(STATIC / "index.html")


@router.get("/api/info")
def info(state: State) -> dict:
    """What the page shows in its header."""
    return {"company": state.workspace.settings.project.name, "setup": state.conversations.assistant.setup}


@router.post("/api/conversations", status_code=201, dependencies=[Depends(rate_limited)])
async def start_conversation(body: NewConversation, state: State, request: Request) -> dict:
    """Start a conversation; with `identity`, for the customer it names once its signature checks out (else 403)."""
    identity = ANONYMOUS
    if body.identity is not None:
        signed = body.identity
        try:
            identity = verify(state.identity_secret, signed.fields, signed.expires, signed.signature)
        except IdentityRefused as exc:
            spend(state, "identity-auth", request)
            raise ApiError(403, str(exc), "invalid_identity") from None
    conversation = await state.conversations.start(body.customer, identity)
    return conversation_view(conversation) | {"messages": []}


@router.get("/api/conversations/{conversation_id}")
def read_conversation(conversation_id: ConversationId, state: State) -> dict:
    """The conversation, its messages with the customer's ratings, and its satisfaction score."""
    conversation = state.store.conversation(conversation_id)
    store = state.store
    return conversation_view(conversation) | transcript_view(
        store.messages(conversation_id), store.ratings(conversation_id), store.satisfaction(conversation_id)
    )


@router.post("/api/conversations/{conversation_id}/messages", status_code=202, dependencies=[Depends(rate_limited)])
async def post_message(conversation_id: ConversationId, body: CustomerMessage, state: State) -> dict:
    """Accept a message; the reply (bot tokens, or an agent's message after a hand-over) arrives on /events."""
    content = ensure_size(body.content, state.settings.max_message_chars)
    message = await state.conversations.post(conversation_id, content, body.client_id)
    return message_view(message)


@router.put(
    "/api/conversations/{conversation_id}/messages/{message_id}/rating", dependencies=[Depends(feedback_limited)]
)
def rate_answer(conversation_id: ConversationId, message_id: MessageId, body: AnswerFeedback, state: State) -> dict:
    """Thumbs up (+1) or down (-1) on one of the bot's answers, with an optional comment; rating again replaces it.
    409 for a message that is not the bot's."""
    rating = state.store.rate_answer(conversation_id, message_id, body.value, body.text)
    return {"message_id": message_id} | rating_view(rating)


@router.put("/api/conversations/{conversation_id}/satisfaction", dependencies=[Depends(feedback_limited)])
def rate_conversation(conversation_id: ConversationId, body: SatisfactionScore, state: State) -> dict:
    """Score the conversation 1-5 once it has been resolved (by the bot or an agent; else 409); the last counts."""
    return rating_view(state.store.rate_conversation(conversation_id, body.score, body.text))


@router.post("/api/conversations/{conversation_id}/handover", dependencies=[Depends(feedback_limited)])
async def talk_to_a_person(conversation_id: ConversationId, state: State) -> dict:
    """Hand the conversation to the agents' inbox with reason `customer`; the bot stays silent from now on."""
    return conversation_view(await state.conversations.request_human(conversation_id))


@router.post("/api/conversations/{conversation_id}/resolve", dependencies=[Depends(feedback_limited)])
async def mark_solved(conversation_id: ConversationId, state: State) -> dict:
    """The customer says the bot's last answer solved it: resolved by the bot, and open to a 1-5 score.
    409 while it is with an agent or before the bot has answered."""
    return conversation_view(await state.conversations.resolve_by_customer(conversation_id))


@router.get("/api/conversations/{conversation_id}/events")
async def conversation_events(
    conversation_id: ConversationId,
    state: State,
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventSourceResponse:
    """Server-sent events: `status`, then every `message` after `after` (or the Last-Event-ID on reconnect),
    then live `delta` (bot tokens), `message` and `status` events."""
    await run_in_threadpool(state.store.conversation, conversation_id)  # 404 before the stream starts
    resume = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    return EventSourceResponse(_events(state, conversation_id, max(after, resume)), ping=15)


async def _events(state: ServeState, conversation_id: str, after: int) -> AsyncIterator[ServerSentEvent]:
    with state.hub.subscribe(conversation_id) as queue:
        conversation = await run_in_threadpool(state.store.conversation, conversation_id)
        yield _sse("status", {"status": conversation.status, "agent": conversation.agent})
        for message in await run_in_threadpool(state.store.messages, conversation_id, after=after):
            yield _sse("message", message_view(message), message.id)
            after = message.id
        while (event := await queue.get()) is not None:
            if event["event"] == "message":
                if event["id"] <= after:
                    continue  # already sent from the database
                after = event["id"]
            yield _sse(event["event"], event["data"], event.get("id"))


def _sse(name: str, data: dict, event_id: int | None = None) -> ServerSentEvent:
    return ServerSentEvent(data=json.dumps(data), event=name, id=str(event_id) if event_id is not None else None)
