"""HTTP service: OpenAI-compatible API, customer chat page and agent inbox (`journey serve`)."""

from journey.serve.app import create_app
from journey.serve.server import BackgroundServer, run_server

__all__ = ["BackgroundServer", "create_app", "run_server"]
