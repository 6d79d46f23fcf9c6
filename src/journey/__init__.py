"""journey: take a language model through the journey an organisation follows."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

__version__ = "0.1.0"


def lazy_exports(package: str, modules: dict[str, list[str]]) -> Callable[[str], object]:
    """A package's module `__getattr__` (PEP 562): each name in `modules` (module -> names) is imported
    from its module on first use.

    `from journey.knowledge import Knowledge` works as before, but importing a light part of a
    package (its records, its settings) no longer loads torch, transformers or LanceDB with it:
    a verb that needs none of them starts in a fraction of a second.
    """
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> object:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[name]), name)
        setattr(sys.modules[package], name, value)  # once imported, an ordinary attribute
        return value

    return __getattr__
