"""The app factory: one process serving a set-up to customers (chat page), agents (inbox) and API clients."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool

from journey.assistant import Assistant, load_assistant
from journey.serve import customer, inbox, openai_api
from journey.serve.auth import ApiKeys
from journey.serve.batching import batch_generation
from journey.serve.conversations import Conversations
from journey.serve.deps import ServeState, State
from journey.serve.errors import ApiError, install_error_handlers
from journey.serve.events import Hub
from journey.serve.identity import IDENTITY_SECRET_ENV
from journey.serve.middleware import BodyLimit, RequestContext
from journey.serve.ratelimit import RateLimiter
from journey.serve.setups import SetupPool, served_setups
from journey.serve.store import Store
from journey.serve.worker import ModelWorker
from journey.workspace import Workspace, resolve_sqlite_url

log = logging.getLogger(__name__)


def create_app(workspace: Workspace, setups: str, *, assistant: Assistant | None = None) -> FastAPI:
    """Build the server for `setups` ("augmented", or "augmented,as-is": the first is the chat page's): load
    each model once and bring the app database up to date. `assistant` stands in for the first set-up's."""
    settings = workspace.settings.serve
    keys = ApiKeys.from_environment(settings)  # before any model loads: no keys, no server
    names = served_setups(setups)
    given = {names[0]: assistant} if assistant else {}
    pool = SetupPool(names, lambda name: given.get(name) or load_assistant(workspace, name))
    assistant = pool.main
    database = resolve_sqlite_url(settings.database, workspace.root)
    store = Store(database)
    engines = batch_generation([pool.get(name) for name in pool.names()], settings)
    in_process = 2 * max(engine.max_batch for engine in engines) if engines else 1
    threads = settings.generation_threads or (8 if workspace.settings.model.backend == "openai" else in_process)
    worker = ModelWorker(settings.max_pending, threads)
    hub = Hub()
    agent_key = os.environ.get(settings.agent_key_env) or None
    if agent_key is None:
        log.warning("No agent key: set %s to open the agent inbox.", settings.agent_key_env)
    identity_secret = os.environ.get(IDENTITY_SECRET_ENV) or None
    if identity_secret is None:
        log.info("No %s: chat-page customers are not identified, so lookups that require identity skip them.",
                 IDENTITY_SECRET_ENV)  # fmt: skip
    state = ServeState(
        workspace=workspace,
        settings=settings,
        store=store,
        hub=hub,
        worker=worker,
        setups=pool,
        conversations=Conversations(store, hub, worker, assistant),
        limiter=RateLimiter(settings.rate_limit_per_minute),
        feedback_limiter=RateLimiter(settings.feedback_rate_limit_per_minute),
        agent_key=agent_key,
        keys=keys,
        identity_secret=identity_secret,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info("serving", extra={"setups": names, "database": make_url(database).render_as_string()})
        await state.conversations.resume_unanswered()
        yield
        await state.conversations.close()
        for engine in engines:
            engine.close()
        worker.close()
        store.close()

    app = FastAPI(
        title=f"{workspace.settings.project.name} support — journey",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.serve = state
    install_error_handlers(app)
    for router in (customer.router, inbox.page, inbox.api, openai_api.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=customer.STATIC), name="static")
    app.add_api_route("/healthz", healthz, methods=["GET"])

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(RequestContext)
    return app


async def healthz(state: State) -> dict:
    """Liveness and readiness: the database answers; how many generations are queued."""
    try:
        await run_in_threadpool(state.store.ping)
    except Exception:
        log.exception("Health check: the database does not answer")
        raise ApiError(503, "The database does not answer.", "unhealthy") from None
    return {"status": "ok", "setup": state.conversations.assistant.setup, "pending": state.worker.pending}
