"""The library entry points for imports: `import_leads` (async), `import_leads_sync` and
`dry_run`.

Like every entry point in `bulkio.api`, they fall back to the environment (through
`resolve_settings`) when no settings are given; the operations themselves never do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..http.retry import RetryPolicy
from ..leadgenius.client import open_client
from ..leadgenius.settings import Settings, resolve_settings
from ..models import DryRun, ImportProgress, ImportReport
from ..ops.imports.email_check import check_usable
from ..ops.imports.hubspot import import_from_hubspot, plan_hubspot
from ..ops.imports.importer import Importer
from ..ops.imports.input import ImportInput
from ..ops.imports.job import ImportOptions, open_job, resume_rules
from ..ops.imports.plan import plan_import
from ..ops.jobs import check_outputs
from ..ops.runs import write_report
from ..sources.files import open_source
from ..sources.hubspot.settings import HubSpotSettings, resolve_hubspot_settings
from ..sources.hubspot.source import hubspot_kind
from .running import blocking, options_of, run_job, run_operation


def import_options(client: str | None, options: ImportOptions | None, kwargs: dict[str, Any]
             ) -> ImportOptions:
    options = options_of(options or ImportOptions(), kwargs)
    if client is not None:
        options = replace(options, client=client)
    if bool(options.client) == bool(options.create_client):
        raise ConfigError("name the target client with --client SLUG, or --create-client NAME "
                          "(one of the two)")
    if options.on_duplicate not in ("skip", "update", "create"):
        raise ConfigError("--on-duplicate must be skip, update or create")
    return options


async def import_leads(source: str | Path, *, client: str | None = None,
                       settings: Settings | None = None, options: ImportOptions | None = None,
                       on_progress: Callable[[ImportProgress], None] | None = None,
                       policy: RetryPolicy | None = None, hubspot: HubSpotSettings | None = None,
                       **option_values: Any) -> ImportReport:
    """Import a CSV or NDJSON file (optionally .gz; "-" for options.stdin), or a HubSpot
    portal's contacts ("hubspot:contacts") or legacy leads ("hubspot:leads-v1"), into a client.

    Every row ends created, updated, skipped as a duplicate, rejected or failed, as the report
    says; rejected and failed rows go to the rejects file. Safe to run again with resume=True
    after a crash or an interruption.

    Example:
        report = await bulkio.import_leads("leads.csv", client="acme-corp", on_duplicate="update")
        print(report.created, report.rejects_path)

    HubSpot's settings (`hubspot`) default to HUBSPOT_ACCESS_TOKEN and HUBSPOT_BASE_URL.

    Raises ConfigError (bad options, unknown client, unreadable file), AuthError, and
    BulkioError when the API cannot be reached at all.
    """
    options = import_options(client, options, option_values)
    settings = settings or resolve_settings()
    name = str(source)
    kind = hubspot_kind(name)
    if kind is None:
        options = resume_rules(name, options)  # before the file is opened: its encoding too
    check_usable(name, options)
    check_outputs(options.job_dir, rejects=options.rejects, report=options.report)
    if kind is not None:
        return await run_operation(import_from_hubspot(
            kind, settings, hubspot or resolve_hubspot_settings(), options, on_progress, policy))
    src = open_source(name, fmt=options.format, encoding=options.encoding, stdin=options.stdin)
    try:
        job_dir, journal, resumed = open_job(name, options, src.fingerprint())

        async def run() -> ImportReport:
            async with open_client(settings, policy=policy) as api:
                return await Importer(api, src, journal, job_dir, resumed, options,
                                      on_progress).run()

        return await run_job(job_dir, journal, run)
    finally:
        src.close()


def import_leads_sync(source: str | Path, **kwargs: Any) -> ImportReport:
    """`import_leads` for scripts and notebooks, blocking until the import ends.

    Where an event loop is already running in this thread (a Jupyter notebook, code called
    from an asyncio program), the import runs in a worker thread with a loop of its own; from
    async code, `await import_leads(...)` is the better call.
    """
    return blocking(partial(import_leads, source, **kwargs))


def dry_run(source: str | Path, *, options: ImportOptions, per_minute: float | None,
            hubspot: HubSpotSettings | None = None) -> DryRun:
    """Read and map the source as an import would, and send nothing.

    A file is read whole; a HubSpot source is sampled (its first 1,000 records, and what
    reading them cost). In-source duplicates are found (on disk, in a temporary journal); the
    client's own leads are not looked at. With `options.report`, the plan is written there as
    an import report (`dry_run: true`). Blocks until done (in a worker thread where an event
    loop already runs).
    """
    options = import_options(None, options, {})
    target = options.client or f"<new client {options.create_client!r}>"
    kind = hubspot_kind(str(source))

    async def plan() -> DryRun:
        if kind is not None:
            return await plan_hubspot(kind, hubspot or resolve_hubspot_settings(), options,
                                      target, per_minute)
        src = open_source(str(source), fmt=options.format, encoding=options.encoding,
                          stdin=options.stdin)
        try:
            rows = ImportInput(src.reader, options)
            rows.for_client(target)
            return await plan_import(rows, per_minute=per_minute)
        finally:
            src.close()

    result = blocking(plan)
    result.strategy, result.batch_size = options.strategy, options.batch_size
    if options.report is not None:
        write_report(options.report, result.report())
    return result
