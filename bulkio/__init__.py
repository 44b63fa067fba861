"""bulkio: async, high-throughput bulk import/export for the LeadGenius Pro API.

The public API is what `__all__` lists; everything else may change.
"""

from .api import (
    dry_run,
    dry_run_purge,
    export_leads,
    import_leads,
    import_leads_sync,
    iter_leads,
    purge_client,
)
from .api_emails import validate_emails
from .api_processing import dry_run_process, make_spec, process_leads, process_status
from .client import LeadGeniusClient, open_client
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
from .ops.export_job import ExportOptions
from .ops.import_job import ImportOptions
from .ops.process_job import ProcessOptions
from .ops.purge_job import PurgeOptions
from .process_report import EmailReport, ProcessPlan, ProcessProgress, ProcessReport
from .quota import Quota
from .retry import RetryPolicy
from .settings import Credentials, Settings, resolve_settings
from .sources.hubspot.settings import HubSpotSettings, resolve_hubspot_settings
from .sources.hubspot.source import HubSpotOptions
from .stats import RunStats
from .version import __version__

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
    "validate_emails",
]
