"""A campaign upload's run: the job opened (and locked with the campaign), the source read
once into the journal, the allowance checked before anything is sent, the uploader run, and
the report and rejects written however the run ends."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ...enrichment.client import EnrichmentClient
from ...errors import ConfigError
from ...formats.rejects import write_rejects
from ...http.redact import register_secret
from ...models import Ended
from ...store.campaign_journal import CampaignJournal
from ...store.campaign_registry import open_registry
from ...store.db import peek_meta
from ..jobs import check_outputs, job_log, state_dir
from ..pool import first_error
from ..runs import job_totals, run_then_finish, write_report
from .job import (
    CampaignLock,
    UploadOptions,
    UploadReport,
    job_dir_of,
    open_upload_job,
    read_into,
)
from .read_back import ReadBack
from .records import load_record_maker
from .sources import RowSource
from .upload import CampaignRefused, Uploader


@dataclass(frozen=True)
class UploadProgress:
    records: int  # to be in the campaign, in all
    accepted: int  # in it
    in_doubt: int  # sent, their answer lost: being looked for
    rate_limited: int
    elapsed_s: float
    per_minute: float | None  # the quota


class OverAllowance(ConfigError):
    """More records than this period has left, and no --up-to-remaining."""


async def upload_to_campaign(api: EnrichmentClient, source: RowSource, options: UploadOptions,
                             *, on_progress: Callable[[UploadProgress], None] | None = None
                             ) -> UploadReport:
    """Upload the source's records into `options.campaign`, each once; resumable."""
    check_outputs(options.job_dir, report=options.report, rejects=options.rejects)
    if options.webhook_url not in (None, "auto"):  # it may carry a token of its own
        register_secret(options.webhook_url)
    options = _with_recorded_rules(source, options)
    options = _with_webhook(api.settings.base_url, options)
    maker = load_record_maker(options.mapping, options.allow_fields)
    lock = CampaignLock(api.settings.base_url, options.campaign)
    try:
        job_dir, journal, resumed = open_upload_job(source, options)
        try:
            with job_log(job_dir):
                if not journal.meta().get("read"):
                    journal.clear_rows()
                    await read_into(journal, source, maker)
                    journal.set_meta(**await campaign_tail(api, options.campaign))
                try:
                    return await _run(api, journal, job_dir, options, on_progress)
                except BaseExceptionGroup as group:  # the error itself, not its task group's
                    raise first_error(group) from None
        except (OverAllowance, CampaignRefused):
            if not resumed and not journal.stored_any():  # nothing to resume: start afresh
                journal.close()
                shutil.rmtree(job_dir, ignore_errors=True)
            raise
        finally:
            journal.close()
    finally:
        lock.release()


def _with_recorded_rules(source: RowSource, options: UploadOptions) -> UploadOptions:
    """On --resume, the job's --type and --fields where they were left out."""
    recorded = (peek_meta(job_dir_of(source, options) / "journal.db") or {}).get("fingerprint")
    if not options.resume or not recorded:
        if not options.type:
            raise ConfigError("--type is needed: the campaign's type")
        return options
    return replace(options, type=options.type or recorded["type"],
                   fields=options.fields or tuple(recorded["fields"]))


def _with_webhook(base_url: str, options: UploadOptions) -> UploadOptions:
    """--webhook-url auto: the running service's hook for this campaign (its token made
    once, kept in the registry, redacted from every log)."""
    if options.into_client and options.webhook_url != "auto":
        raise ConfigError("--into-client needs --webhook-url auto: the service brings the "
                          "records back (or run `campaign download --into-client` later)")
    if options.webhook_url != "auto":
        return options
    with open_registry(state_dir()) as registry:
        url = registry.service_url()
        if url is None:
            raise ConfigError("--webhook-url auto: no `bulkio serve` receives webhooks on this "
                              "machine; start it with the legacy key (LEADGENIUS_LEGACY_API_KEY)"
                              " and --public-url, or give --webhook-url URL")
        token = registry.hook(base_url, options.campaign, options.into_client)
    register_secret(token)
    return replace(options, webhook_url=f"{url.rstrip('/')}/hooks/campaigns/{token}")


async def campaign_tail(api: EnrichmentClient, slug: str) -> dict[str, int]:
    """The campaign's size and newest record id before the job sends anything: its records
    are never taken for the job's own."""
    count, newest = await ReadBack(api, slug).tail()
    return {"campaign_count": count, "campaign_floor": newest}


async def check_allowance(api: EnrichmentClient, journal: CampaignJournal,
                          options: UploadOptions) -> tuple[int, str | None]:
    """This period's remaining allowance, and what was held back for it (None: nothing).
    More records than it allows are refused before anything is sent, or (--up-to-remaining)
    the first that fit are sent, in source order, and the rest held back."""
    usage = await api.usage()
    period = usage["current_period"]
    remaining = int(period.get("remaining") or 0)
    to_send = journal.remaining_to_send()
    if to_send <= remaining:
        return remaining, None
    ends = str(period.get("end_date") or "")[:10]
    if not options.up_to_remaining:
        raise OverAllowance(
            f"{to_send:,} records to upload, but this period's allowance has {remaining:,} "
            f"left{f' (until {ends})' if ends else ''}: add --up-to-remaining to send the "
            f"first {remaining:,} and hold back the rest, or wait for the next period")
    reason = (f"held back: this period's allowance had {remaining:,} records left"
              + (f" (until {ends})" if ends else ""))
    held = journal.hold_after(remaining, reason)
    return remaining, f"{held:,} records held back (over this period's {remaining:,} left)"


async def _run(api: EnrichmentClient, journal: CampaignJournal, job_dir: Path,
               options: UploadOptions, on_progress: Callable[[UploadProgress], None] | None
               ) -> UploadReport:
    started = time.monotonic()
    before = journal.meta()
    remaining, held = await check_allowance(api, journal, options)
    total = sum(v for k, v in journal.counts().items() if k in ("pending", "sending",
                                                                   "uploaded"))
    already = journal.counts()["uploaded"]
    uploader = Uploader(api, journal, options)

    def progress() -> UploadProgress:
        return UploadProgress(total, already + uploader.accepted, uploader.in_doubt,
                              api.stats.rate_limited, time.monotonic() - started,
                              api.settings.rate_per_minute)

    async def finish(ended: Ended) -> UploadReport:
        return _finish(journal, job_dir, options, uploader, before, started, ended,
                       remaining - uploader.accepted, held)

    return await run_then_finish(uploader.run, finish, progress, on_progress)


def _finish(journal: CampaignJournal, job_dir: Path, options: UploadOptions, uploader: Uploader,
            before: dict[str, Any], started: float, ended: Ended, remaining: int,
            held: str | None) -> UploadReport:
    counts, sums = journal.counts(), journal.sums()
    totals = job_totals(before.get("totals", {}), uploader.api.stats, started)
    totals["upload_requests"] = int(before.get("totals", {}).get("upload_requests", 0)) \
        + uploader.upload_requests
    totals["read_back_requests"] = int(before.get("totals", {}).get("read_back_requests", 0)) \
        + uploader.reader.requests
    totals["recovered"] = int(before.get("totals", {}).get("recovered", 0)) + uploader.recovered
    with open_registry(state_dir()) as registry:  # for download --wait, status, webhooks
        registry.add(uploader.api.settings.base_url, options.campaign, journal.uploaded(),
                     from_client="client" in before["fingerprint"]["source"])
    done = ended is Ended.DONE and not journal.remaining_to_send()
    status = "finished" if done else "interrupted" if ended is Ended.INTERRUPTED else "failed"
    journal.set_meta(totals=totals, status="finished" if done else "running")
    report = UploadReport(
        status=status, campaign=options.campaign, rows_read=sums["rows_read"],
        records=sums["rows_read"] - counts["rejected"], sent=sums["sent"],
        accepted=counts["uploaded"], rejected=counts["rejected"], failed=counts["failed"],
        held=counts["held"], recovered=totals["recovered"], resent=sums["resent"],
        contacts=sums["contacts"], orgs=sums["orgs"], leads=sums["leads"],
        requests=totals["requests"], upload_requests=totals["upload_requests"],
        read_back_requests=totals["read_back_requests"], retries=totals["retries"],
        rate_limited=totals["rate_limited"], remaining_allowance=max(0, remaining),
        elapsed_s=totals["elapsed_s"], job_dir=str(job_dir))
    meta = journal.meta()
    report.notices = notices_of(meta, held)
    rejects = options.rejects or job_dir / f"rejects.{meta.get('rejects_format', 'csv')}"
    if write_rejects(rejects, str(meta.get("rejects_format", "csv")),
                     list(meta.get("columns") or []), str(meta.get("delimiter", ",")),
                     journal.not_uploaded()):
        report.rejects_path = str(rejects)
    report.report_path = write_report(options.report or job_dir / "report.json", report)
    return report


def notices_of(meta: dict[str, Any], held: str | None) -> list[str]:
    """What bulkio decided for the user, said once."""
    said = []
    if meta.get("not_sent"):
        said.append(f"columns not sent (no enrichment field): {', '.join(meta['not_sent'])}; "
                    "--mapping maps them, --allow-field sends a campaign's own fields")
    if meta.get("refused_columns"):
        said.append(f"columns refused (not fields the enrichment API takes): "
                    f"{', '.join(meta['refused_columns'])}; their rows with a value are "
                    "rejected")
    for name, columns in (meta.get("shared") or {}).items():
        said.append(f"{name} comes from the first of {', '.join(columns)} with a value")
    if held:
        said.append(held)
    return said
