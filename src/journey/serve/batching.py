"""Concurrent chats share their model's generation: one `BatchingEngine` for each in-process model served.

Without it an in-process model answers one chat after another; with it, every chat waiting for the model
joins the running batch at its next decode step (models/batching.py). `serve.max_batch = 1` keeps the
one-at-a-time path, as does a model the engine cannot batch (said at start-up); an OpenAI-compatible
backend batches on its own server and is left as it is.
"""

from __future__ import annotations

import logging

from journey.assistant import Assistant
from journey.models.backends import TransformersBackend
from journey.models.batching import BatchedBackend, BatchingEngine, BatchingUnsupported
from journey.workspace import ServeSettings

log = logging.getLogger(__name__)


def batch_generation(assistants: list[Assistant], settings: ServeSettings) -> list[BatchingEngine]:
    """Route each in-process model's generations through one engine (set-ups that share a model share it);
    return the engines started, for the server to close."""
    if settings.max_batch == 1:
        return []
    batched: dict[int, BatchedBackend] = {}
    for assistant in assistants:
        backend = assistant.backend
        if not isinstance(backend, TransformersBackend):
            continue
        if id(backend) not in batched:
            try:
                engine = BatchingEngine(
                    backend.model,
                    max_batch=settings.max_batch,
                    window_s=settings.batch_window_ms / 1000,
                    temperature=backend.temperature,
                    name=backend.name,
                )
            except BatchingUnsupported as exc:
                log.warning("The %s model answers one chat after another: %s.", backend.name, exc)
                continue
            batched[id(backend)] = BatchedBackend(backend, engine)
        assistant.backend = batched[id(backend)]
    return [backend.engine for backend in batched.values()]
