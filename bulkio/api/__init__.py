"""The library entry points, one module per operation. Each falls back to the environment
(`resolve_settings`) when no settings are given; the operations in `bulkio.ops` never do.
Each module is imported on first use of one of its names (see bulkio.lazy)."""

import typing

from .. import lazy

__getattr__, __dir__ = lazy.lazy_names(__name__, {
    ".emails": ("validate_emails",),
    ".exports": ("export_leads", "iter_leads"),
    ".imports": ("dry_run", "import_leads", "import_leads_sync"),
    ".processing": ("dry_run_process", "make_spec", "process_leads", "process_status"),
    ".purges": ("dry_run_purge", "purge_client"),
    ".sync": ("sync_contacts",),
})

if typing.TYPE_CHECKING:
    from .emails import validate_emails
    from .exports import export_leads, iter_leads
    from .imports import dry_run, import_leads, import_leads_sync
    from .processing import dry_run_process, make_spec, process_leads, process_status
    from .purges import dry_run_purge, purge_client
    from .sync import sync_contacts

__all__ = [
    "dry_run",
    "dry_run_process",
    "dry_run_purge",
    "export_leads",
    "import_leads",
    "import_leads_sync",
    "iter_leads",
    "make_spec",
    "process_leads",
    "process_status",
    "purge_client",
    "sync_contacts",
    "validate_emails",
]
