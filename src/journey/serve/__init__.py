"""HTTP service: OpenAI-compatible API, customer chat page and agent inbox (`journey serve`).

FastAPI, uvicorn and the model backends are imported on first use.
"""

from journey import lazy_exports

__all__ = ["BackgroundServer", "create_app", "run_server"]
__getattr__ = lazy_exports(
    __name__, {"journey.serve.app": ["create_app"], "journey.serve.server": ["BackgroundServer", "run_server"]}
)
