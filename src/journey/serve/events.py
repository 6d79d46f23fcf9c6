"""Live events per conversation (in-process publish/subscribe for the chat page's event stream)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Event = dict[str, Any]  # {"event": name, "data": payload, optional "id"}


class Hub:
    """Fan events out to the subscribers of a conversation. Call from the event loop only.

    A subscriber that falls `backlog` events behind is dropped (it receives None and its
    stream ends); the browser reconnects and catches up from the database.
    """

    def __init__(self, backlog: int = 1000) -> None:
        self._backlog = backlog
        self._subscribers: dict[str, set[asyncio.Queue[Event | None]]] = defaultdict(set)

    @contextmanager
    def subscribe(self, key: str) -> Iterator[asyncio.Queue[Event | None]]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(self._backlog)
        self._subscribers[key].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[key].discard(queue)
            if not self._subscribers[key]:
                del self._subscribers[key]

    def publish(self, key: str, event: Event) -> None:
        for queue in list(self._subscribers.get(key, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                queue.get_nowait()  # make room for the end marker
                queue.put_nowait(None)
                self._subscribers[key].discard(queue)
