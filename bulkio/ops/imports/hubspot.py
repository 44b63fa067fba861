"""An import from HubSpot: the same importer as for a file, reading a HubSpot source.

HubSpot's session and quota are the run's own, beside LeadGenius's; the job directory holds
the journal (the contact id or lead guid is each row's key) and the company cache.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from ...http.retry import RetryPolicy
from ...leadgenius.client import open_client
from ...leadgenius.settings import Settings
from ...models import DryRun, ImportProgress, ImportReport
from ...sources.hubspot.client import open_hubspot
from ...sources.hubspot.settings import HubSpotSettings
from ...sources.hubspot.source import PREFIX, HubSpotSource
from ...store.source_cache import CompanyCache
from ..jobs import job_log
from .importer import Importer
from .input import ImportInput
from .job import ImportOptions, open_job, resume_rules
from .plan import plan_import


async def import_from_hubspot(kind: str, settings: Settings, hubspot: HubSpotSettings,
                              options: ImportOptions,
                              on_progress: Callable[[ImportProgress], None] | None,
                              policy: RetryPolicy | None) -> ImportReport:
    name = PREFIX + kind
    options = resume_rules(name, options, where=f"{name}|{hubspot.base_url}")
    async with open_hubspot(hubspot, policy=policy) as hs:
        source = HubSpotSource(name, kind, hs, options.hubspot)
        job_dir, journal, resumed = open_job(name, options, source.fingerprint(),
                                             where=f"{name}|{hubspot.base_url}")
        cache = CompanyCache(job_dir)
        try:
            source.open(cache)
            await source.reader.probe()
            with job_log(job_dir):
                async with open_client(settings, policy=policy) as api:
                    importer = Importer(api, source, journal, job_dir, resumed, options,
                                        on_progress)
                    return await importer.run()
        finally:
            await source.aclose()
            cache.close()
            journal.close()


SAMPLE = 1_000  # records a dry run reads from HubSpot


async def plan_hubspot(kind: str, hubspot: HubSpotSettings, options: ImportOptions, target: str,
                       per_minute: float | None) -> DryRun:
    """A dry run: HubSpot's first records, mapped; what reading them cost in requests."""
    with tempfile.TemporaryDirectory(prefix="bulkio-dry-run-") as folder:
        async with open_hubspot(hubspot) as hs:
            source = HubSpotSource(PREFIX + kind, kind, hs, options.hubspot)
            cache = CompanyCache(Path(folder))
            try:
                source.open(cache)
                rows = ImportInput(source.reader, options)
                rows.for_client(target)
                plan = await plan_import(rows, per_minute=per_minute, limit=SAMPLE)
            finally:
                await source.aclose()
                cache.close()
    plan.hubspot_requests = hs.stats.requests
    plan.hubspot_per_10s = hubspot.rate_per_10s
    if not plan.whole_source:
        plan.notices.append(f"HubSpot does not say how many records there are without reading "
                            f"them all: these are the first {plan.rows_read:,}")
    return plan
