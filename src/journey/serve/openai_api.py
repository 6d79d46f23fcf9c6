"""OpenAI-compatible API: `GET /v1/models` (the set-ups) and `POST /v1/chat/completions` (streamed or not).

Stateless, like OpenAI's: the client sends the conversation each time. Every request needs
`Authorization: Bearer <key>` (serve/auth.py) unless `serve.allow_anonymous` is on. The
hand-over decision and citations travel in an extra `journey` field (on the last chunk when
streaming) that plain OpenAI clients ignore; see `chat_completions` for what else may.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from sse_starlette import EventSourceResponse

from journey.assistant import Assistant, Reply
from journey.knowledge.identity import ANONYMOUS, Identity
from journey.serve.auth import Caller
from journey.serve.deps import ServeState, State, rate_limited, spend
from journey.serve.errors import ApiError
from journey.serve.schemas import ChatCompletionRequest, ensure_size, reply_meta

log = logging.getLogger(__name__)


async def api_caller(request: Request, state: State, authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The caller's key (compared in constant time, never logged); 401 without a valid one, failures rate limited."""
    caller = state.keys.caller(authorization)
    if caller is None:
        spend(state, "api-auth", request)
        raise ApiError(
            401, "Missing or invalid API key: send Authorization: Bearer <key>.", "invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip
    return caller


ApiCaller = Annotated[Caller, Depends(api_caller)]
router = APIRouter(prefix="/v1", dependencies=[Depends(api_caller)])


@router.get("/models")
async def list_models(state: State) -> dict:
    names = state.setups.names()
    return {
        "object": "list",
        "data": [{"id": n, "object": "model", "created": 0, "owned_by": "journey"} for n in names],
    }


@router.post("/chat/completions", dependencies=[Depends(rate_limited)], response_model=None)
async def chat_completions(body: ChatCompletionRequest, state: State, caller: ApiCaller) -> dict | EventSourceResponse:
    """OpenAI's chat completion, answered by the set-up named in `model` (one this server was started with).

    The customer: a key holder (the integrating backend, which has signed its customer in) passes the
    verified identity of the customer the conversation is for in the extra field
    `"journey": {"customer": {"email": "ada@example.com"}}` (OpenAI clients: `extra_body=`). Lookups
    that require identity (journey.toml `requires`) run only with it, and return only that customer's
    rows; without it they do not run, so no customer's records reach the model. OpenAI's `user` field
    is an opaque id for abuse monitoring and is ignored. Anonymous callers cannot pass an identity.

    The response's `journey` field (assistant/records.py's ReplyRecord): `handed_over`, `reason`,
    `citations`, `passages` (id, title, source, score), `lookups` (name, parameters, description),
    `latency_s`, the token counts and `warnings` — and, for a data key only, the passage texts and
    the raw lookup rows.
    """
    for message in body.messages:
        ensure_size(message.text, state.settings.max_message_chars)
    assistant = state.setups.get(body.model)
    identity = _identity(body, caller)
    state.worker.admit()
    completion = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": body.model}
    if body.stream:
        return EventSourceResponse(_chunks(state, assistant, body, completion, identity, caller), ping=15)
    question, history = body.messages[-1].text, body.history()
    reply = await state.worker.call(lambda: assistant.answer(question, history, identity=identity))
    return completion | {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.answer}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
        "journey": reply_meta(reply, raw=caller.data),
    }


def _identity(body: ChatCompletionRequest, caller: Caller) -> Identity:
    """The customer the key holder vouches for; 403 when an anonymous caller claims one."""
    if body.journey.customer is None:
        return ANONYMOUS
    if not caller.keyed:
        raise ApiError(403, "Only a caller with an API key can pass a customer identity.", "identity_needs_key")
    return Identity(dict(body.journey.customer))


async def _chunks(
    state: ServeState,
    assistant: Assistant,
    body: ChatCompletionRequest,
    completion: dict[str, Any],
    identity: Identity,
    caller: Caller,
) -> AsyncIterator[dict[str, str]]:
    """`chat.completion.chunk` events: the role, the text pieces, a last chunk with `journey`, then [DONE]."""

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> dict[str, str]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"data": json.dumps(completion | {"object": "chat.completion.chunk", "choices": [choice], **extra})}

    question, history = body.messages[-1].text, body.history()
    yield chunk({"role": "assistant", "content": ""})
    try:
        async for item in state.worker.iterate(lambda: assistant.stream(question, history, identity=identity)):
            if isinstance(item, Reply):
                yield chunk({}, "stop", journey=reply_meta(item, raw=caller.data) | {"answer": item.answer})
            else:
                yield chunk({"content": item})
    except Exception:
        log.exception("Generation failed while streaming")
        error = {
            "message": "The assistant failed to answer; please retry.",
            "type": "server_error",
            "code": "internal_error",
        }
        yield {"data": json.dumps({"error": error})}
    yield {"data": "[DONE]"}
