"""The set-ups a server serves: exactly the ones it was started with (`journey serve --setup a,b`).

Each is loaded once, at start-up. A request for any other `model` is a 404 and loads nothing,
so a caller cannot make the server fill its memory with the workspace's other models.
"""

from __future__ import annotations

from collections.abc import Callable

from journey.assistant import Assistant
from journey.serve.errors import ApiError
from journey.setups import setup_def


def served_setups(value: str) -> list[str]:
    """The set-up names in `value` ("augmented" or "augmented,as-is"), each checked, in the order given."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    return list(dict.fromkeys(setup_def(name).name for name in names)) or [setup_def(value).name]


class SetupPool:
    """Assistants by set-up name (the OpenAI API's `model`); the first is the chat page's."""

    def __init__(self, names: list[str], load: Callable[[str], Assistant]) -> None:
        self._loaded = {name: load(name) for name in names}

    @property
    def main(self) -> Assistant:
        return next(iter(self._loaded.values()))

    def names(self) -> list[str]:
        return list(self._loaded)

    def get(self, name: str) -> Assistant:
        """The assistant of set-up `name`; 404 (OpenAI's model_not_found) when this server does not serve it."""
        if name not in self._loaded:
            served = ", ".join(self._loaded)
            raise ApiError(404, f"The model '{name}' is not served here (served: {served}).", "model_not_found")
        return self._loaded[name]
