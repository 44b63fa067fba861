"""The library entry points for purges: `purge_client` and `dry_run_purge` (async)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..http.retry import RetryPolicy
from ..leadgenius.client import open_client
from ..leadgenius.settings import Settings, resolve_settings
from ..models import PurgePlan, PurgeProgress, PurgeReport
from ..ops.jobs import ClientLock, check_outputs
from ..ops.purge.job import PurgeOptions, open_purge_job
from ..ops.purge.purger import Confirm, Purger, Refused, requests_needed
from ..ops.runs import write_report
from .running import options_of, run_job


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
    options = options_of(options or PurgeOptions(), option_values)
    check_outputs(options.job_dir, report=options.report)
    settings = settings or resolve_settings()
    async with open_client(settings, policy=policy) as api:
        target = await api.resolve_client(client)
        # No import into this client on this machine while its leads are deleted.
        lock = ClientLock(settings.base_url, await api.company_id(), target.slug,
                          f"purge of {target.slug}")
        try:
            job_dir, spool, _, options = open_purge_job(target.slug, options)
            purger = Purger(api, target, spool, job_dir, delete_client=options.delete_client,
                            confirm=confirm, report_path=options.report, on_progress=on_progress)
            return await run_job(job_dir, spool, purger.run, nothing_done=Refused)
        finally:
            lock.release()


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
