"""bulkio: async, high-throughput bulk import/export for the LeadGenius Pro API.

The public API is what `__all__` lists; everything else may change.
"""

from importlib.metadata import PackageNotFoundError as _NotInstalled
from importlib.metadata import version as _version

from .client import LeadGeniusClient, open_client
from .errors import (
    ApiError,
    AuthError,
    BulkioError,
    ConfigError,
    LeadRejected,
    OutcomeUnknown,
    RateLimited,
    TransportError,
    UnknownClient,
)
from .models import Client, LeadKind, Page
from .quota import Quota
from .retry import RetryPolicy
from .settings import Credentials, Settings, resolve_settings
from .stats import RunStats

try:
    __version__ = _version("bulkio")
except _NotInstalled:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ApiError",
    "AuthError",
    "BulkioError",
    "Client",
    "ConfigError",
    "Credentials",
    "LeadGeniusClient",
    "LeadKind",
    "LeadRejected",
    "OutcomeUnknown",
    "Page",
    "Quota",
    "RateLimited",
    "RetryPolicy",
    "RunStats",
    "Settings",
    "TransportError",
    "UnknownClient",
    "__version__",
    "open_client",
    "resolve_settings",
]
