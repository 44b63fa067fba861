"""A faithful local twin of the LeadGenius Pro API, quirks and quota included.

It imports nothing from the rest of bulkio, so that a misreading of the wire contract
cannot hide on both sides.
"""

from typing import TYPE_CHECKING, Any

from .config import SandboxConfig

if TYPE_CHECKING:
    from .server import Sandbox, run_sandbox

__all__ = ["Sandbox", "SandboxConfig", "run_sandbox"]


def __getattr__(name: str) -> Any:
    # The server (aiohttp.web and the app) loads on first use, not with the package: the
    # `bulkio` command registers `bulkio sandbox` from config alone, and starts faster.
    if name in ("Sandbox", "run_sandbox"):
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
