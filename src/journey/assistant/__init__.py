"""The assistant pipeline and the set-ups that configure it.

The set-up records are light; the pipeline loads the model backends (torch), so it is
imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from journey import lazy_exports
from journey.assistant.setups import SetupSpec, available_setups, resolve_setup

if TYPE_CHECKING:
    from journey.assistant.pipeline import Assistant
    from journey.workspace import Workspace

__all__ = ["Assistant", "Reply", "SetupSpec", "available_setups", "load_assistant", "resolve_setup"]
__getattr__ = lazy_exports(__name__, {"journey.assistant.pipeline": ["Assistant", "Reply"]})


def load_assistant(workspace: Workspace, setup: str) -> Assistant:
    """Build the assistant of one set-up: its model backend, its hand-over rule and, if on, its knowledge."""
    spec = resolve_setup(workspace, setup)  # an unknown or unbuilt set-up is said before torch loads
    from journey.assistant.handover import rule_for
    from journey.assistant.pipeline import Assistant
    from journey.models import load_backend

    knowledge = None
    if spec.knowledge:
        from journey.knowledge import Knowledge

        knowledge = Knowledge.open(workspace)
    backend = load_backend(
        workspace.settings.model, base=spec.base, adapter=spec.adapter, name=setup, knowledge=spec.knowledge
    )
    handover = rule_for(workspace, spec.adapter)
    return Assistant(workspace.settings, backend, setup=setup, knowledge=knowledge, handover=handover)
