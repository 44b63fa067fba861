"""The library entry points: `import_leads` (async), `import_leads_sync`, `dry_run`,
`export_leads` (async), `iter_leads` (async iterator), `purge_client` (async), `dry_run_purge`.

These are the only library functions that fall back to the environment (through
`resolve_settings`) when no settings are given; the operations themselves never do.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio

from .client import open_client
from .errors import ConfigError
from .models import (
    DryRun,
    ExportProgress,
    ExportReport,
    ImportProgress,
    ImportReport,
    PurgePlan,
    PurgeProgress,
    PurgeReport,
)
from .ops.export_job import KINDS, ExportOptions, check_outputs, open_export_job, plan_targets
from .ops.export_stdout import StreamExport
from .ops.export_streams import plan_streams, unique_pages
from .ops.exporter import Exporter
from .ops.import_email_check import check_usable
from .ops.import_hubspot import import_from_hubspot, plan_hubspot
from .ops.import_input import ImportInput
from .ops.import_job import ImportOptions, open_job
from .ops.import_plan import plan_import
from .ops.importer import Importer
from .ops.jobs import HasMeta, job_log
from .ops.purge_job import PurgeOptions, open_purge_job
from .ops.purger import Confirm, Purger, Refused, requests_needed
from .ops.runs import write_report
from .pool import first_error
from .retry import RetryPolicy
from .settings import Settings, resolve_settings
from .sources.files import open_source
from .sources.hubspot.settings import HubSpotSettings, resolve_hubspot_settings
from .sources.hubspot.source import hubspot_kind

R = TypeVar("R")
T = TypeVar("T")
PATH_OPTIONS = ("job_dir", "rejects", "report")


def _options_of(base: T, values: dict[str, Any]) -> T:
    """`base` with these option values; paths may be given as str, as library callers do."""
    paths = {k: Path(v) for k, v in values.items() if k in PATH_OPTIONS and isinstance(v, str)}
    return replace(base, **{**values, **paths})  # type: ignore[type-var]


async def _run(operation: Awaitable[R]) -> R:
    """Await an operation; the error that stopped it rather than its task group's wrapper."""
    try:
        return await operation
    except BaseExceptionGroup as group:
        raise first_error(group) from None


async def run_job(job_dir: Path, db: HasMeta, operation: Callable[[], Awaitable[R]], *,
                  nothing_done: type[BaseException]) -> R:
    """A job's run, logged to JOB/log.txt; its database closed at the end. Stopped by
    `nothing_done` (nothing was sent), the job directory goes too: nothing to resume."""
    try:
        with job_log(job_dir):
            return await _run(operation())
    except nothing_done:
        db.close()
        shutil.rmtree(job_dir, ignore_errors=True)
        raise
    finally:
        db.close()


def _options(client: str | None, options: ImportOptions | None, kwargs: dict[str, Any]
             ) -> ImportOptions:
    options = _options_of(options or ImportOptions(), kwargs)
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
    options = _options(client, options, option_values)
    settings = settings or resolve_settings()
    name = str(source)
    kind = hubspot_kind(name)
    check_usable(name, options)
    if kind is not None:
        return await _run(import_from_hubspot(
            kind, settings, hubspot or resolve_hubspot_settings(), options, on_progress, policy))
    src = open_source(name, fmt=options.format, encoding=options.encoding, stdin=options.stdin)
    try:
        job_dir, journal, resumed = open_job(name, options, src.fingerprint())
        try:
            with job_log(job_dir):
                async with open_client(settings, policy=policy) as api:
                    importer = Importer(api, src, journal, job_dir, resumed, options, on_progress)
                    return await _run(importer.run())
        finally:
            journal.close()
    finally:
        src.close()


def import_leads_sync(source: str | Path, **kwargs: Any) -> ImportReport:
    """`import_leads` for scripts and notebooks, blocking until the import ends.

    Where an event loop is already running in this thread (a Jupyter notebook, code called
    from an asyncio program), the import runs in a worker thread with a loop of its own; from
    async code, `await import_leads(...)` is the better call.
    """
    return _blocking(partial(import_leads, source, **kwargs))


def dry_run(source: str | Path, *, options: ImportOptions, per_minute: float | None,
            hubspot: HubSpotSettings | None = None) -> DryRun:
    """Read and map the source as an import would, and send nothing.

    A file is read whole; a HubSpot source is sampled (its first 1,000 records, and what
    reading them cost). In-source duplicates are found (on disk, in a temporary journal); the
    client's own leads are not looked at. With `options.report`, the plan is written there as
    an import report (`dry_run: true`). Blocks until done (in a worker thread where an event
    loop already runs).
    """
    options = _options(None, options, {})
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

    result = _blocking(plan)
    result.strategy, result.batch_size = options.strategy, options.batch_size
    if options.report is not None:
        write_report(options.report, result.report())
    return result


def _blocking(call: Callable[[], Awaitable[T]]) -> T:
    """Run `call` to its end from synchronous code: here, or in a worker thread with an event
    loop of its own where one is already running (a Jupyter notebook)."""
    def run() -> T:
        result: T = anyio.run(call, backend="asyncio")
        return result

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop here: the common case of a script
        return run()
    with ThreadPoolExecutor(1, thread_name_prefix="bulkio") as worker:
        return worker.submit(run).result()


async def export_leads(out: str | Path, *, settings: Settings | None = None,
                       options: ExportOptions | None = None,
                       on_progress: Callable[[ExportProgress], None] | None = None,
                       policy: RetryPolicy | None = None, **option_values: Any) -> ExportReport:
    """Export a tenant's leads (every client, or one) to NDJSON or CSV, optionally .gz.

    Written to OUT.part and renamed when complete, with OUT.manifest.json beside it. Safe to
    run again with resume=True after a crash or an interruption. OUT "-" writes to the
    binary stream given as `stdout=` (not resumable).

    Example:
        report = await bulkio.export_leads("leads.ndjson.gz", fields=("email", "companyName"))
        print(report.records, report.files)

    Raises ConfigError (bad options, unknown client), AuthError, and BulkioError when the API
    cannot be reached at all.
    """
    if isinstance(option_values.get("fields"), (list, str)):
        fields = option_values["fields"]
        option_values["fields"] = tuple(fields.split(",") if isinstance(fields, str) else fields)
    options = _options_of(options or ExportOptions(), {**option_values, "out": out})
    if not 1 <= options.page_size <= 5000:
        raise ConfigError("--page-size must be between 1 and 5000")
    settings = settings or resolve_settings()
    if str(out) == "-":
        if options.stdout is None:
            raise ConfigError("an export to '-' writes to the stream given as stdout=...")
        async with open_client(settings, policy=policy) as api:
            return await _run(StreamExport(api, options, options.stdout, on_progress).run())
    targets = plan_targets(options)
    check_outputs(targets, options)
    job_dir, checkpoint, resumed = open_export_job(options, targets)
    try:
        with job_log(job_dir):
            async with open_client(settings, policy=policy) as api:
                exporter = Exporter(api, options, targets, checkpoint, job_dir, resumed, on_progress)
                return await _run(exporter.run())
    finally:
        checkpoint.close()


async def iter_leads(*, kind: str = "enrich", client: str = "ALL",
                     fields: Sequence[str] | None = None, page_size: int = 5000,
                     settings: Settings | None = None) -> AsyncIterator[dict[str, Any]]:
    """Every lead of a kind (enrich or source), one client's or every client's, one at a time.

    For scripts that process records rather than write them: pages are fetched as they are
    consumed, one cursor at a time, and a record the server repeats is skipped.

    Example:
        async for lead in bulkio.iter_leads(client="acme-corp", fields=["email"]):
            print(lead["email"])
    """
    if kind not in ("enrich", "source"):
        raise ConfigError(f"kind must be enrich or source, not {kind!r}")
    options = ExportOptions(client=client, fields=tuple(fields) if fields else None,
                            page_size=page_size)
    async with open_client(settings or resolve_settings()) as api:
        keep = None if api.auth.has_api_key or not fields else {"id", *fields}
        for stream in await plan_streams(api, options, list(KINDS[kind])):
            async for records, _ in unique_pages(api, stream, page_size=page_size,
                                                 fields=options.fields):
                for record in records:
                    yield record if keep is None else {k: v for k, v in record.items() if k in keep}


async def purge_client(client: str, *, settings: Settings | None = None,
                       options: PurgeOptions | None = None, confirm: Confirm | None = None,
                       on_progress: Callable[[PurgeProgress], None] | None = None,
                       policy: RetryPolicy | None = None, **option_values: Any) -> PurgeReport:
    """Delete every lead of a client (its slug; a UUID is translated), 50 a request, listing
    the client again after each round, until none is left or a round deletes nothing.

    `confirm(client, leads)` is awaited once the leads are counted, before anything is
    deleted; False stops the purge (ConfigError) and leaves no job behind. With
    delete_client=True the client record is deleted too, once it is empty. Safe to run again
    with resume=True after a crash or an interruption.

    Example:
        report = await bulkio.purge_client("old-client", delete_client=True)
        print(report.deleted, report.remaining)
    """
    options = _options_of(options or PurgeOptions(), option_values)
    settings = settings or resolve_settings()
    async with open_client(settings, policy=policy) as api:
        target = await api.resolve_client(client)
        job_dir, spool, _ = open_purge_job(target.slug, options)
        purger = Purger(api, target, spool, job_dir, delete_client=options.delete_client,
                        confirm=confirm, report_path=options.report, on_progress=on_progress)
        return await run_job(job_dir, spool, purger.run, nothing_done=Refused)


async def dry_run_purge(client: str, *, settings: Settings | None = None,
                        report: str | Path | None = None) -> PurgePlan:
    """Count a client's leads and what purging them would cost; delete nothing. With
    `report`, write it as a purge report there (`dry_run: true`)."""
    settings = settings or resolve_settings()
    async with open_client(settings) as api:
        target = await api.resolve_client(client)
        leads = await api.count_leads(target.slug)
        plan = PurgePlan(target, leads, requests_needed(leads, bulk=api.auth.has_api_key),
                         api.quota.per_minute)
    if report is not None:
        write_report(Path(report), plan.report())
    return plan
