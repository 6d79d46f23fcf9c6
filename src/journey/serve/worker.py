"""The model's queue: generations run on worker threads, off the event loop, in arrival order.

An in-process model that micro-batches (serve/batching.py) gets twice its batch size in threads, each
waiting on its own chat's tokens; one that does not generates one reply at a time (its backend holds a
lock), so it gets one thread; an OpenAI-compatible server batches concurrent requests itself, so it
gets several.
Queueing here keeps the event loop free for other requests and bounds how many may wait.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


class Busy(RuntimeError):
    """More generations are waiting than the server accepts."""


class ModelWorker:
    """Runs model calls on `threads` threads; at most `max_pending` calls are queued or running."""

    def __init__(self, max_pending: int, threads: int = 1) -> None:
        self.max_pending = max_pending
        self.pending = 0
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="journey-model")

    def admit(self) -> None:
        """Raise `Busy` when the queue is full (check before accepting work)."""
        if self.pending >= self.max_pending:
            raise Busy("The assistant is busy; please retry in a few seconds.")

    @contextmanager
    def _slot(self) -> Iterator[None]:
        self.pending += 1
        try:
            yield
        finally:
            self.pending -= 1

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on a model thread and await its result."""
        with self._slot():
            return await asyncio.wrap_future(self._executor.submit(fn, *args))

    async def iterate(self, make: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        """Iterate `make()` on a model thread, yielding its items here as they come."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
        stop = threading.Event()  # set when our consumer goes away: stop pulling items

        def post(item: Any, error: BaseException | None = None) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, (item, error))

        def run() -> None:
            try:
                for item in make():
                    if stop.is_set():
                        break
                    post(item)
            except BaseException as exc:
                post(_END, exc)
            else:
                post(_END)

        with self._slot():
            self._executor.submit(run)
            try:
                while True:
                    item, error = await queue.get()
                    if error is not None:
                        raise error
                    if item is _END:
                        return
                    yield item
            finally:
                stop.set()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
