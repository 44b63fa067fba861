"""`bulkio campaign download`: a campaign's records, pages of 100 following each answer's
`next` link as given (on the API's own origin only), straight to `FILE.part` and renamed over
FILE when complete. Each page is fsynced before its checkpoint (the link to the next one, the
bytes the file holds) commits, so a resumed download cuts what came after and goes on. With
`--wait`, first until every record this machine uploaded into the campaign is finalized,
polling no faster than the quota allows and slower while nothing changes.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import orjson

from ...enrichment.client import EnrichmentClient
from ...enrichment.fields import CONTACT_FIELDS, ORG_FIELDS
from ...errors import ConfigError, Interrupted
from ...formats.output import AppendFile, CsvEncoder, Encoder, NdjsonEncoder, finish_file
from ...store.campaign_registry import CampaignRegistry, open_registry
from ...store.db import FINISHED, JobDatabase
from ...store.files import check_output_file
from .. import jobs
from ..rules import differences
from ..runs import write_report

log = logging.getLogger("bulkio.campaigns")
IDS_A_REQUEST = 100  # ?id=... filters: one page's worth
CHECKED_BY_ID = 10  # requests `campaign status` may spend asking about records by id
POLL_FIRST_S, POLL_MAX_S = 2.0, 300.0
RECORD_COLUMNS = ("id", "status", "created", "finalized", *ORG_FIELDS, *CONTACT_FIELDS, "extra")
DOWNLOAD_REPORT_KEYS = ("status", "campaign", "records", "finalized", "pending", "pages",
                        "requests", "retries", "rate_limited", "waited_s", "elapsed_s")


@dataclass(frozen=True)
class DownloadOptions:
    campaign: str = ""
    out: Path = Path()
    finalized_only: bool = False
    ids: Path | None = None
    wait: bool = False
    wait_timeout: float = 86_400.0
    resume: bool = False
    job_dir: Path | None = None
    report: Path | None = None
    csv_raw: bool = False


@dataclass
class DownloadReport:
    status: str = "running"
    campaign: str = ""
    records: int = 0  # written to the file
    finalized: int = 0
    pending: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_s: float = 0.0
    elapsed_s: float = 0.0
    out_path: str = ""
    job_dir: str = ""
    report_path: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "finished"

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in DOWNLOAD_REPORT_KEYS}


def flat(result: dict[str, Any]) -> dict[str, Any]:
    """A record as a line: its id, status and times, then its fields."""
    data = result.get("data")
    if not isinstance(data, dict):
        data = {}
    return {"id": result.get("id"), "status": result.get("status"),
            "created": result.get("created"), "finalized": result.get("finalized"), **data}


class CsvRecords:
    """The CSV encoder with fixed columns: the API's fields; any other (a campaign's own) in
    `extra`, as JSON, so nothing is dropped."""

    def __init__(self, raw: bool) -> None:
        self.csv = CsvEncoder(RECORD_COLUMNS, raw=raw)
        self.known = frozenset(RECORD_COLUMNS)

    def header(self) -> bytes:
        return self.csv.header()

    def encode(self, records: list[dict[str, Any]]) -> Any:
        rows = []
        for record in records:
            extra = {k: v for k, v in record.items() if k not in self.known}
            rows.append({**record, "extra": orjson.dumps(extra).decode() if extra else None})
        return self.csv.encode(rows)


def encoder_for(out: Path, raw: bool) -> Encoder | CsvRecords:
    name = out.name.removesuffix(".gz")
    if name.endswith(".ndjson") or name.endswith(".jsonl"):
        return NdjsonEncoder()
    if name.endswith(".csv"):
        return CsvRecords(raw)
    raise ConfigError(f"--out {out}: name the file .csv or .ndjson (.gz to compress)")


def read_ids(path: Path) -> list[int]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--ids {path}: {exc.strerror}") from None
    ids = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not line.strip().isdigit():
                raise ConfigError(f"--ids {path}, line {number}: {line.strip()!r} is not a "
                                  "record id (one number a line)")
            ids.append(int(line))
    return list(dict.fromkeys(ids))


class Downloader:
    def __init__(self, api: EnrichmentClient, options: DownloadOptions, job: JobDatabase,
                 registry: CampaignRegistry, *, on_page: Callable[[DownloadReport], None]
                 | None = None) -> None:
        self.api = api
        self.options = options
        self.job = job
        self.registry = registry
        self.on_page = on_page
        self.report = DownloadReport(campaign=options.campaign, out_path=str(options.out))
        self.ids = read_ids(options.ids) if options.ids else None

    async def wait_finalized(self) -> None:
        """Until every record this machine uploaded into the campaign is finalized (or, when
        it uploaded none, every record of the campaign). Interrupted at --wait-timeout."""
        base, slug = self.api.settings.base_url, self.options.campaign
        started, pause = time.monotonic(), POLL_FIRST_S
        while True:
            first = await self.api.records(slug)
            if int(first.get("count_enriched") or 0) >= int(first.get("count_uploaded") or 0):
                break
            waiting = self.registry.unfinalized(base, slug)
            if self.registry.counts(base, slug)[0] and not waiting:
                break
            done = []
            for start in range(0, len(waiting), IDS_A_REQUEST):
                answer = await self.api.records(slug, ids=waiting[start:start + IDS_A_REQUEST])
                done += [int(r["id"]) for r in answer["results"] if r.get("finalized")]
            self.registry.finalized(base, slug, done)
            if waiting and len(done) == len(waiting):
                break
            left = len(waiting) - len(done) if waiting else (
                int(first.get("count_uploaded") or 0) - int(first.get("count_enriched") or 0))
            if time.monotonic() - started + pause > self.options.wait_timeout:
                raise Interrupted(f"{left:,} records are not finalized after "
                                  f"{self.options.wait_timeout:,.0f} s",
                                  when="later, or without --wait for what is there")
            pause = POLL_FIRST_S if done else min(POLL_MAX_S, pause * 1.5)
            log.info("%d records not finalized yet; looking again in %.0f s", left, pause)
            await anyio.sleep(pause)
        self.report.waited_s = round(time.monotonic() - started, 1)

    async def _pages(self, meta: dict[str, Any]) -> AsyncIterator[tuple[dict[str, Any], Any]]:
        """(answer, where the next page is) from where the job's checkpoint says."""
        slug = self.options.campaign
        if self.ids is not None:
            start = int(meta.get("next") or 0)
            for at in range(start, len(self.ids), IDS_A_REQUEST):
                chunk = self.ids[at:at + IDS_A_REQUEST]
                answer = await self.api.records(slug, ids=chunk)
                yield answer, at + IDS_A_REQUEST
            return
        link = meta.get("next")
        answer = await (self.api.follow(link) if link else self.api.records(slug))
        while True:
            nxt = answer.get("next")
            yield answer, str(nxt) if nxt else None
            if not nxt:
                return
            answer = await self.api.follow(str(nxt))

    async def run(self) -> DownloadReport:
        o, r = self.options, self.report
        meta = self.job.meta()
        r.records, r.finalized, r.pages = (int(meta.get(k, 0)) for k in ("records", "finalized",
                                                                       "pages"))
        if meta.get("status") == FINISHED:  # resumed after its end: nothing left to do
            r.pending, r.status = r.records - r.finalized, "finished"
            return r
        if o.wait and not meta.get("size"):
            await self.wait_finalized()
        encoder = encoder_for(o.out, o.csv_raw)
        part = o.out.with_name(o.out.name + ".part")
        out = AppendFile(part, gzip=o.out.name.endswith(".gz"), size=int(meta.get("size", 0)))
        await out.open()
        try:
            if not out.size:
                await out.append(encoder.header())
            async for answer, nxt in self._pages(meta):
                rows = [flat(x) for x in answer["results"]
                        if not o.finalized_only or x.get("finalized")]
                size = await out.append(encoder.encode(rows).data if rows else b"")
                r.records += len(rows)
                r.finalized += sum(1 for x in rows if x.get("finalized"))
                r.pages += 1
                self.job.set_meta(size=size, next=nxt, records=r.records,
                                  finalized=r.finalized, pages=r.pages)
                self.registry.finalized(self.api.settings.base_url, o.campaign,
                                        [int(x["id"]) for x in rows if x.get("finalized")])
                if self.on_page is not None:
                    self.on_page(r)
        finally:
            await out.close()
        finish_file(part, o.out)
        self.job.set_meta(status=FINISHED)
        r.pending = r.records - r.finalized
        r.status = "finished"
        return r


FLAGS = {"campaign": "SLUG", "out": "--out", "finalized_only": "--finalized-only",
         "ids": "--ids (the file's contents)", "base_url": "--legacy-base-url"}


async def machine_progress(api: EnrichmentClient, slug: str, campaign: dict[str, Any]
                           ) -> tuple[int, int, bool]:
    """(records this machine uploaded into the campaign, of them finalized, whether that is
    today's count): from the campaign's own counts (`campaign`: its first page) when its
    records are all this machine's or all finalized, else asking about this machine's that
    were not finalized yet when that takes at most CHECKED_BY_ID requests, else as of the last
    download."""
    base = api.settings.base_url
    uploaded, enriched = (int(campaign.get(k) or 0) for k in ("count_uploaded",
                                                             "count_enriched"))
    with open_registry(jobs.state_dir()) as registry:
        mine, known = registry.counts(base, slug)
        waiting = registry.unfinalized(base, slug)
        if not mine or not waiting:
            return mine, known, True
        if enriched >= uploaded:  # the whole campaign is finalized
            registry.finalized(base, slug, waiting)
            return mine, mine, True
        if uploaded == mine:  # every record is this machine's
            return mine, enriched, True
        if len(waiting) > CHECKED_BY_ID * IDS_A_REQUEST:
            return mine, known, False
        for start in range(0, len(waiting), IDS_A_REQUEST):
            answer = await api.records(slug, ids=waiting[start:start + IDS_A_REQUEST])
            registry.finalized(base, slug, [int(r["id"]) for r in answer["results"]
                                            if r.get("finalized")])
        return (*registry.counts(base, slug), True)


def into_client_job(base_url: str, campaign: str, client: str) -> Path:
    """The default job directory of a download --into-client (its records file is in it)."""
    return jobs.default_job_dir("download", f"{campaign}-into-{client}",
                                f"{base_url}|{campaign}|{client}")


def open_download_job(api: EnrichmentClient, options: DownloadOptions
                      ) -> tuple[Path, JobDatabase]:
    ids = orjson.dumps(read_ids(options.ids)).decode() if options.ids else None
    rules = {"campaign": options.campaign, "out": str(options.out.resolve()),
             "finalized_only": options.finalized_only, "base_url": api.settings.base_url,
             "ids": None if ids is None else hashlib.sha256(ids.encode()).hexdigest()}
    job_dir = options.job_dir or jobs.default_job_dir(
        "download", options.campaign, orjson.dumps(rules, option=orjson.OPT_SORT_KEYS).decode())
    job, resumed = jobs.open_job(
        job_dir, "checkpoint.db", JobDatabase, resume=options.resume, fingerprint=rules,
        what=f"download of campaign {options.campaign}",
        mismatch=lambda recorded: differences(recorded, rules, FLAGS, lambda k, v: str(v),
                                              f"download in {job_dir}"))
    if not resumed:
        job.set_meta(fingerprint=rules)
    return job_dir, job


async def download_campaign(api: EnrichmentClient, options: DownloadOptions, *,
                            on_page: Callable[[DownloadReport], None] | None = None
                            ) -> DownloadReport:
    """Every record of the campaign (or `options.ids`) into `options.out`; resumable. The
    report is written however the run ends."""
    check_output_file(options.out, "--out")
    jobs.check_outputs(options.job_dir, report=options.report)
    encoder_for(options.out, options.csv_raw)  # a name it cannot write: before any request
    started = time.monotonic()
    job_dir, job = open_download_job(api, options)
    try:
        with jobs.job_log(job_dir), open_registry(jobs.state_dir()) as registry:
            downloader = Downloader(api, options, job, registry, on_page=on_page)
            report = downloader.report
            report.job_dir = str(job_dir)
            try:
                return await downloader.run()
            finally:
                if report.status == "running":
                    report.status = "interrupted"
                report.requests, report.retries = api.stats.requests, api.stats.retries
                report.rate_limited = api.stats.rate_limited
                report.elapsed_s = round(time.monotonic() - started, 3)
                report.report_path = write_report(options.report or job_dir / "report.json",
                                                  report)
    finally:
        job.close()
