"""The set-ups the API serves: the one started with, and the workspace's others loaded on first use."""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool

from journey.assistant import Assistant, available_setups, load_assistant
from journey.errors import UserError
from journey.serve.errors import ApiError
from journey.serve.worker import ModelWorker
from journey.setups import setup_names
from journey.workspace import Workspace


class SetupPool:
    """Assistants by set-up name (the OpenAI API's `model`); each is loaded once, on a model thread."""

    def __init__(self, workspace: Workspace, served: Assistant, worker: ModelWorker) -> None:
        self.workspace = workspace
        self.worker = worker
        self._loaded = {served.setup: served}
        self._loading = asyncio.Lock()

    async def names(self) -> list[str]:
        """The served set-up first, then every other set-up whose parts exist in the workspace."""
        available = await run_in_threadpool(available_setups, self.workspace)
        return list(dict.fromkeys([*self._loaded, *available]))

    async def get(self, name: str) -> Assistant:
        """The assistant of set-up `name`; 404 (OpenAI's model_not_found) when it does not exist here."""
        if name in self._loaded:
            return self._loaded[name]
        if name not in setup_names():
            raise ApiError(
                404, f"The model '{name}' does not exist. GET /v1/models lists the set-ups.", "model_not_found"
            )
        async with self._loading:
            if name not in self._loaded:
                try:
                    self._loaded[name] = await self.worker.call(load_assistant, self.workspace, name)
                except UserError as exc:
                    raise ApiError(404, str(exc), "model_not_found") from None
        return self._loaded[name]
