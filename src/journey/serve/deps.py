"""What every route shares: the server's state, and the per-client rate limit on costly requests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from journey.serve.auth import ApiKeys
from journey.serve.conversations import Conversations
from journey.serve.errors import ApiError
from journey.serve.events import Hub
from journey.serve.ratelimit import RateLimiter
from journey.serve.setups import SetupPool
from journey.serve.store import Store
from journey.serve.worker import ModelWorker
from journey.workspace import ServeSettings, Workspace


@dataclass
class ServeState:
    """Everything one server holds; built once by `create_app`."""

    workspace: Workspace
    settings: ServeSettings
    store: Store
    hub: Hub
    worker: ModelWorker
    setups: SetupPool
    conversations: Conversations
    limiter: RateLimiter  # generating and writing requests, and failed authentications
    feedback_limiter: RateLimiter  # the customers' ratings, scores, "this solved it" and "talk to a person"
    agent_key: str | None
    keys: ApiKeys
    identity_secret: str | None  # verifies the chat page's signed customer identities; None: none accepted


def get_state(request: Request) -> ServeState:
    return request.app.state.serve


State = Annotated[ServeState, Depends(get_state)]


def client_address(request: Request) -> str:
    """The caller's address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the real client's)."""
    return request.client.host if request.client else "unknown"


def spend(state: ServeState, scope: str, request: Request, limiter: RateLimiter | None = None) -> None:
    """Take one request from the client's budget for `scope` (in `limiter`, by default the server's main one);
    429 with Retry-After when it is spent."""
    if retry := (limiter or state.limiter).take(f"{scope}:{client_address(request)}"):
        raise ApiError(
            429, "Too many requests; please slow down.", "rate_limited", headers={"Retry-After": str(math.ceil(retry))}
        )


async def rate_limited(request: Request, state: State) -> None:
    """Dependency for requests that generate or write: the per-client limit `serve.rate_limit_per_minute`."""
    spend(state, "write", request)


async def feedback_limited(request: Request, state: State) -> None:
    """Dependency for the customer's feedback: its own per-client allowance, `serve.feedback_rate_limit_per_minute`,
    so a customer who asked many questions can still rate the answers (a rating generates nothing)."""
    spend(state, "feedback", request, state.feedback_limiter)
