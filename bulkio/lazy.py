"""A package's public names, imported on first use (PEP 562).

`import bulkio` and `python -m bulkio` then load only what is used: `bulkio --help` does not
import the HTTP client, and `bulkio import` does not import the exporter. Type checkers read
the package's `if TYPE_CHECKING:` imports instead; a test keeps those and the table equal.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, where: dict[str, tuple[str, ...]]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`, for names listed by module (relative to it).

    Example:
        __getattr__, __dir__ = lazy_names(__name__, {".errors": ("ApiError",)})
    """
    location = {name: module for module, names in where.items() for name in names}

    def get(name: str) -> Any:
        module = location.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # once: the next lookup finds it directly
        return value

    def names() -> list[str]:
        return sorted({*vars(sys.modules[package]), *location})

    return get, names
