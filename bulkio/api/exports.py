"""The library entry points for exports: `export_leads` (async) and `iter_leads` (async
iterator)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..http.retry import RetryPolicy
from ..leadgenius.client import open_client
from ..leadgenius.settings import Settings, resolve_settings
from ..models import ExportProgress, ExportReport
from ..ops.exports.exporter import Exporter
from ..ops.exports.job import KINDS, ExportOptions, check_outputs, open_export_job, plan_targets
from ..ops.exports.stdout import StreamExport
from ..ops.exports.streams import plan_streams, unique_pages
from .running import options_of, run_job, run_operation


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
    options = options_of(options or ExportOptions(), {**option_values, "out": out})
    if not 1 <= options.page_size <= 5000:
        raise ConfigError("--page-size must be between 1 and 5000")
    settings = settings or resolve_settings()
    if str(out) == "-":
        if options.stdout is None:
            raise ConfigError("an export to '-' writes to the stream given as stdout=...")
        async with open_client(settings, policy=policy) as api:
            return await run_operation(StreamExport(api, options, options.stdout, on_progress).run())
    targets = plan_targets(options)
    check_outputs(targets, options)
    job_dir, checkpoint, resumed = open_export_job(options, targets)

    async def export() -> ExportReport:
        async with open_client(settings, policy=policy) as api:
            return await Exporter(api, options, targets, checkpoint, job_dir, resumed,
                                  on_progress).run()

    return await run_job(job_dir, checkpoint, export)


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
