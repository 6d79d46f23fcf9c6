"""Running the app: in the foreground for `journey serve`, or on a background thread (tests, benchmarks)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from journey.models import threads
from journey.serve.app import create_app
from journey.serve.logs import configure_logging
from journey.workspace import Workspace


def run_server(workspace: Workspace, setup: str, *, host: str | None = None, port: int | None = None) -> None:
    """Serve `setup` (a set-up, or several comma-separated) with uvicorn until interrupted; logs go to stderr
    as JSON lines."""
    configure_logging()
    settings = workspace.settings.serve
    threads.apply(threads.serving_plan(settings.threads))
    uvicorn.run(
        create_app(workspace, setup),
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


class BackgroundServer:
    """Serve `app` on a free loopback port from a thread: `with BackgroundServer(app) as server: server.url`."""

    def __init__(self, app: FastAPI, *, host: str = "127.0.0.1", startup_timeout: float = 30.0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, 0))
        self.url = f"http://{host}:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._startup_timeout = startup_timeout

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()
