"""The assistant pipeline and the set-ups that configure it."""

from __future__ import annotations

from journey.assistant.pipeline import Assistant, Reply
from journey.assistant.setups import SetupSpec, available_setups, resolve_setup
from journey.models import load_backend
from journey.workspace import Workspace

__all__ = ["Assistant", "Reply", "SetupSpec", "available_setups", "load_assistant", "resolve_setup"]


def load_assistant(workspace: Workspace, setup: str) -> Assistant:
    """Build the assistant of one set-up: its model backend and, if on, its knowledge."""
    spec = resolve_setup(workspace, setup)
    knowledge = None
    if spec.knowledge:
        from journey.knowledge import Knowledge

        knowledge = Knowledge.open(workspace)
    backend = load_backend(workspace.settings.model, base=spec.base, adapter=spec.adapter, name=setup)
    return Assistant(workspace.settings, backend, setup=setup, knowledge=knowledge)
