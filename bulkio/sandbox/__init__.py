"""A faithful local twin of the LeadGenius Pro API, quirks and quota included.

It imports nothing from the rest of bulkio, so that a misreading of the wire contract
cannot hide on both sides.
"""

from .config import SandboxConfig
from .server import Sandbox, run_sandbox

__all__ = ["Sandbox", "SandboxConfig", "run_sandbox"]
