"""bulkio: async, high-throughput bulk import/export for the LeadGenius Pro API.

The public API is what `__all__` lists; everything else may change.
"""

import typing

from . import lazy
from .version import __version__

# Each public name's module, imported on first use (see bulkio.lazy).
__getattr__, __dir__ = lazy.lazy_names(__name__, {
    ".api": ("dry_run", "dry_run_process", "dry_run_purge", "export_leads", "import_leads",
             "import_leads_sync", "iter_leads", "make_spec", "process_leads", "process_status",
             "purge_client", "sync_contacts", "validate_emails"),
    ".errors": ("ApiError", "AuthError", "BulkioError", "ConfigError", "Interrupted",
                "LeadRejected", "OutcomeUnknown", "RateLimited", "TransportError", "UnknownClient"),
    ".http.quota": ("Quota",),
    ".http.retry": ("RetryPolicy",),
    ".http.stats": ("RunStats",),
    ".leadgenius.client": ("LeadGeniusClient", "open_client"),
    ".leadgenius.settings": ("Credentials", "Settings", "resolve_settings"),
    ".models": ("Client", "DryRun", "ExportProgress", "ExportReport", "ImportProgress",
                "ImportReport", "LeadKind", "Page", "PurgePlan", "PurgeProgress", "PurgeReport"),
    ".ops.emails.report": ("EmailReport",),
    ".ops.exports.job": ("ExportOptions",),
    ".ops.imports.job": ("ImportOptions",),
    ".ops.process.job": ("ProcessOptions",),
    ".ops.process.report": ("ProcessPlan", "ProcessProgress", "ProcessReport"),
    ".ops.purge.job": ("PurgeOptions",),
    ".ops.sync.job": ("SyncOptions", "SyncReport"),
    ".sources.hubspot.settings": ("HubSpotSettings", "resolve_hubspot_settings"),
    ".sources.hubspot.source": ("HubSpotOptions",),
})

if typing.TYPE_CHECKING:
    from .api import (
        dry_run,
        dry_run_process,
        dry_run_purge,
        export_leads,
        import_leads,
        import_leads_sync,
        iter_leads,
        make_spec,
        process_leads,
        process_status,
        purge_client,
        sync_contacts,
        validate_emails,
    )
    from .errors import (
        ApiError,
        AuthError,
        BulkioError,
        ConfigError,
        Interrupted,
        LeadRejected,
        OutcomeUnknown,
        RateLimited,
        TransportError,
        UnknownClient,
    )
    from .http.quota import Quota
    from .http.retry import RetryPolicy
    from .http.stats import RunStats
    from .leadgenius.client import LeadGeniusClient, open_client
    from .leadgenius.settings import Credentials, Settings, resolve_settings
    from .models import (
        Client,
        DryRun,
        ExportProgress,
        ExportReport,
        ImportProgress,
        ImportReport,
        LeadKind,
        Page,
        PurgePlan,
        PurgeProgress,
        PurgeReport,
    )
    from .ops.emails.report import EmailReport
    from .ops.exports.job import ExportOptions
    from .ops.imports.job import ImportOptions
    from .ops.process.job import ProcessOptions
    from .ops.process.report import ProcessPlan, ProcessProgress, ProcessReport
    from .ops.purge.job import PurgeOptions
    from .ops.sync.job import SyncOptions, SyncReport
    from .sources.hubspot.settings import HubSpotSettings, resolve_hubspot_settings
    from .sources.hubspot.source import HubSpotOptions

__all__ = [
    "ApiError",
    "AuthError",
    "BulkioError",
    "Client",
    "ConfigError",
    "Credentials",
    "DryRun",
    "EmailReport",
    "ExportOptions",
    "ExportProgress",
    "ExportReport",
    "HubSpotOptions",
    "HubSpotSettings",
    "ImportOptions",
    "ImportProgress",
    "ImportReport",
    "Interrupted",
    "LeadGeniusClient",
    "LeadKind",
    "LeadRejected",
    "OutcomeUnknown",
    "Page",
    "ProcessOptions",
    "ProcessPlan",
    "ProcessProgress",
    "ProcessReport",
    "PurgeOptions",
    "PurgePlan",
    "PurgeProgress",
    "PurgeReport",
    "Quota",
    "RateLimited",
    "RetryPolicy",
    "RunStats",
    "Settings",
    "SyncOptions",
    "SyncReport",
    "TransportError",
    "UnknownClient",
    "__version__",
    "dry_run",
    "dry_run_process",
    "dry_run_purge",
    "export_leads",
    "import_leads",
    "import_leads_sync",
    "iter_leads",
    "make_spec",
    "open_client",
    "process_leads",
    "process_status",
    "purge_client",
    "resolve_hubspot_settings",
    "resolve_settings",
    "sync_contacts",
    "validate_emails",
]
