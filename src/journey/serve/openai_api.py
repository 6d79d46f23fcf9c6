"""OpenAI-compatible API: `GET /v1/models` (the set-ups) and `POST /v1/chat/completions` (streamed or not).

Stateless, like OpenAI's: the client sends the conversation each time. The hand-over
decision, citations and passages travel in an extra `journey` field (on the last chunk
when streaming) that plain OpenAI clients ignore.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse

from journey.assistant import Assistant, Reply
from journey.serve.deps import ServeState, State, rate_limited
from journey.serve.schemas import ChatCompletionRequest, ensure_size, reply_meta

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1")


@router.get("/models")
async def list_models(state: State) -> dict:
    names = await state.setups.names()
    return {
        "object": "list",
        "data": [{"id": n, "object": "model", "created": 0, "owned_by": "journey"} for n in names],
    }


@router.post("/chat/completions", dependencies=[Depends(rate_limited)], response_model=None)
async def chat_completions(body: ChatCompletionRequest, state: State) -> dict | EventSourceResponse:
    for message in body.messages:
        ensure_size(message.text, state.settings.max_message_chars)
    assistant = await state.setups.get(body.model)
    state.worker.admit()
    completion = {"id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()), "model": body.model}
    if body.stream:
        return EventSourceResponse(_chunks(state, assistant, body, completion), ping=15)
    reply = await state.worker.call(assistant.answer, body.messages[-1].text, body.history())
    return completion | {
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.answer}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
        "journey": reply_meta(reply),
    }


async def _chunks(
    state: ServeState, assistant: Assistant, body: ChatCompletionRequest, completion: dict[str, Any]
) -> AsyncIterator[dict[str, str]]:
    """`chat.completion.chunk` events: the role, the text pieces, a last chunk with `journey`, then [DONE]."""

    def chunk(delta: dict[str, str], finish: str | None = None, **extra: Any) -> dict[str, str]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"data": json.dumps(completion | {"object": "chat.completion.chunk", "choices": [choice], **extra})}

    question, history = body.messages[-1].text, body.history()
    yield chunk({"role": "assistant", "content": ""})
    try:
        async for item in state.worker.iterate(lambda: assistant.stream(question, history)):
            if isinstance(item, Reply):
                yield chunk({}, "stop", journey=reply_meta(item) | {"answer": item.answer})
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
