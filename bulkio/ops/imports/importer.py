"""`bulkio import`: stream a CSV or NDJSON file into single-lead POSTs, losing nothing.

Phases of a run:
1. resolve the client (a UUID becomes its slug; --create-client creates it once per job);
2. list the emails the client already holds into the journal (on disk), once per job;
3. stream: read a batch -> map and sanitise -> admit it in the journal (decisions and
   `attempted` marks are durable before any request) -> senders -> outcomes, journalled in
   batches; meanwhile, rows whose answer was lost (in this run, or left in flight by a run
   that was cut off) are settled in the background once the server's own timeout has
   passed for each (`settle`): new rows never wait for them;
4. reconcile and verify: wait only for the rows still unknown, list the client, mark rows
   whose lost answer did create the lead, check every created lead is there, re-send what is
   missing; at most a few rounds, then what is still unknown has failed;
5. write the rejects file and the report.

No row is sent twice: a row whose outcome is unknown is only re-sent after the client's own
list shows its lead is not there.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from ...errors import ConfigError, Interrupted
from ...formats.rejects import write_rejects
from ...leadgenius.client import LeadGeniusClient
from ...models import Ended, ImportProgress, ImportReport
from ...sources.records import ImportSource
from ...store.db import FINISHED, RUNNING
from ...store.import_journal import FINAL, UNRESOLVED, ImportJournal, Outcome, RowState
from ...store.serial import Serial
from ...version import __version__
from ..jobs import ClientLock
from ..pool import Send, run_pool
from ..runs import job_totals, run_then_finish, write_report
from .batch import BatchPolicy, Outstanding
from .email_check import refused_addresses
from .input import ImportInput
from .job import ImportOptions, record_rules
from .requests import BatchJob, CreateJob, Job, Requests, UpdateJob, rownos
from .settle import Settlement, emails_and_ids
from .target import check_still_there, lock_client, target_slug

log = logging.getLogger("bulkio.import")

UPDATE_BATCH = 50
FLUSH_EVERY_S = 0.25
GIVE_UP_STREAK = 50  # consecutive requests with no answer: the API is down, stop (resumable)


class ApiUnreachable(Interrupted):
    """Too many requests in a row got no answer: the API went down; resume later."""


class Importer:
    """One run of one import job. Use `import_leads` rather than this class directly.

    Journal calls go through `self.serial` (the journal's one worker thread) while anything
    else may be using it; the few direct `self.journal` reads happen between phases, when
    nothing is.
    """

    def __init__(self, api: LeadGeniusClient, source: ImportSource, journal: ImportJournal,
                 job_dir: Path, resumed: bool, options: ImportOptions,
                 on_progress: Callable[[ImportProgress], None] | None) -> None:
        self.api = api
        self.source = source
        self.reader = source.reader
        self.serial = Serial()
        self.journal = journal
        self.job_dir = job_dir
        self.resumed = resumed
        self.options = options
        self.on_progress = on_progress
        self.input = ImportInput(source.reader, options)
        self.slug = ""
        self.phase = "starting"
        self.counts: dict[str, int] = dict.fromkeys((*FINAL, *UNRESOLVED), 0)
        self.started = time.monotonic()
        self.stats_before: dict[str, float] = {}
        self._pending: list[Outcome] = []
        # Rows journalled as attempted whose request has not started: on a graceful stop they
        # are marked never sent, so that --resume sends them at once instead of waiting for
        # their settle time as for rows really in flight.
        self._not_started: set[int] = set()
        self.client_lock: ClientLock | None = None
        self._streak = 0
        self.rows_before = 0  # rows the job's earlier runs finished (for this run's rate)
        self.settlement: Settlement | None = None
        self.email_notice = ""  # what --validate-emails found
        self.batch_size = max(16, min(256, 4 * api.settings.effective_concurrency))
        self.policy = BatchPolicy(options.strategy, options.batch_size)
        self.outstanding = Outstanding()  # jobs handed to the senders, not yet answered
        self.requests = Requests(api, lambda rownos: self.serial(self.journal.mark_batched, rownos))

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> ImportReport:
        return await run_then_finish(self._phases, self._finish, self.progress,
                                     self.on_progress)

    async def _phases(self) -> None:
        meta = self.journal.meta()
        self.stats_before = meta.get("stats", {})
        self.input.empty_before = int(meta.get("empty_rows", 0))
        if meta.get("status") == FINISHED:
            await self._refresh_counts()
            return
        await self._start(meta)
        if self.options.check_emails and not meta.get("read_done"):
            self.phase = "checking emails"
            refused, self.email_notice = await refused_addresses(
                self.api, self.source.name, self.options, self.job_dir, self._checked)
            self.input.refused_emails = refused
        self.rows_before = sum(self.counts[s] for s in FINAL)
        settlement = self.settlement = Settlement(
            self.api, self.serial, self.journal, self.slug, self.options.settle_s, self.policy,
            resend=self._resend, refresh=self._refresh_counts, say=self._say)
        if self.resumed:
            await self.serial(self.journal.stamp_left_in_flight)
        if not meta.get("read_done"):
            if self.resumed and meta.get("rowno"):
                await self.input.resume(meta)
            self.phase = "importing"
            async with anyio.create_task_group() as tg:
                tg.start_soon(settlement.in_background)
                try:
                    await self._send(self._produce)
                finally:
                    settlement.stream_ended()
            await self.serial(self.journal.set_meta, read_done=True)
        await settlement.final_rounds(verify=self.options.verify)
        self.phase = "checking that the client is still there"
        await check_still_there(self.api, self.slug)
        await self.serial(self.journal.set_meta, status=FINISHED)

    def _checked(self, done: int, distinct: int) -> None:
        self.phase = f"checking emails ({done:,} of {distinct:,})"

    def _say(self, phase: str) -> None:
        self.phase = phase

    async def _start(self, meta: dict[str, Any]) -> None:
        locked = self.options.client_locked
        if self.resumed and meta.get("client_slug"):
            self.slug = str(meta["client_slug"])
            if not locked:
                self.client_lock = await lock_client(self.api, self.slug, self.source.name)
        else:
            self.slug = (self.options.client or "") if self.options.client_known \
                else await target_slug(self.api, self.options)  # a sync resolved it already
            if not locked:  # before the job is recorded: refused, nothing to resume
                self.client_lock = await lock_client(self.api, self.slug, self.source.name)
            await self.serial(
                self.journal.set_meta, source=self.source.name, fingerprint=self.source.fingerprint(),
                format=self.source.format, client_slug=self.slug, status=RUNNING,
                rules=record_rules(self.job_dir, self.options), bulkio=__version__,
                delimiter=getattr(self.reader, "delimiter", ","))
        self.input.for_client(self.slug)
        await self._refresh_counts()
        if self.options.client_known and not meta.get("existing_loaded"):
            await self.serial(self.journal.set_meta, existing_loaded=True, pre_complete=False)
        elif not meta.get("existing_loaded"):
            self.phase = "listing the client's existing leads"
            async for page in self.api.lead_pages(self.slug, fields=["email"]):
                await self.serial(self.journal.add_existing, emails_and_ids(page.items))
            await self.serial(self.journal.set_meta, existing_loaded=True, pre_complete=True)
        elif self.policy.uses_batches and not meta.get("pre_complete"):
            raise ConfigError("this job was started by an older bulkio, which did not keep "
                              "every lead the client held before it: resume it with "
                              "--strategy single")

    # -- streaming -------------------------------------------------------------------------

    async def _produce(self, send: Send[Job]) -> None:
        updates: list[tuple[int, str, dict[str, str]]] = []
        batch: list[CreateJob] = []
        while True:
            prepared, position = await self.input.next_prepared(self.batch_size)
            if not prepared:
                break
            await self.serial(self.journal.admit, [a for a, _ in prepared], position,
                               self.options.on_duplicate)
            self._not_started.update(a.rowno for a, _ in prepared
                                     if a.action in ("create", "update"))
            for admission, built in prepared:
                if admission.action == "repeat":  # the source sent it again: not a row
                    continue
                if admission.action == "reject":
                    self.counts[RowState.REJECTED] += 1
                elif admission.action == "skip":
                    self.counts[RowState.SKIPPED_DUPLICATE] += 1
                elif admission.action == "update":
                    assert built is not None and admission.lead_id
                    self.counts[RowState.UPDATING] += 1
                    updates.append((admission.rowno, admission.lead_id, built.changes()))
                    if len(updates) == UPDATE_BATCH:
                        await send(UpdateJob(updates))
                        updates = []
                else:
                    assert built is not None and built.payload is not None
                    self.counts[RowState.ATTEMPTED] += 1
                    job = CreateJob(admission.rowno, built.payload)
                    # A row without an email cannot be looked up in a listing: never batched.
                    if admission.email and self.policy.batch_next():
                        batch.append(job)
                        if len(batch) == self.policy.size:
                            await self._send_batch(send, batch)
                            batch = []
                    else:
                        if self.policy.state == "probing":  # few singles ahead of its verdict
                            await self.outstanding.at_most(self._ahead_while_probing())
                        await send(job)
            if batch and not self.policy.batching:  # auto fell back meanwhile
                for job in batch:
                    await send(job)
                batch = []
        if batch:
            await self._send_batch(send, batch)
        if updates:
            await send(UpdateJob(updates))

    def _ahead_while_probing(self) -> int:
        """Single leads queued while `auto`'s probe is verified: about a second of the quota
        (enough to keep it busy; any more would delay the listing that gives the verdict,
        which waits for a quota slot behind them, and be sent one a request)."""
        per_minute = self.api.quota.per_minute
        second = 64 if per_minute is None else math.ceil(per_minute / 60)
        return max(4, min(self.api.settings.effective_concurrency, second))

    async def _send_batch(self, send: Send[Job], batch: list[CreateJob]) -> None:
        self.policy.batch_sent()
        await send(BatchJob(batch))

    async def _send(self, produce: Callable[[Send[Job]], Awaitable[None]]) -> None:
        """Run the senders over `produce`'s jobs; outcomes are journalled every quarter second."""
        async def counted(send: Send[Job]) -> None:
            async def send_counted(job: Job) -> None:
                self.outstanding.add()
                await send(job)
            await produce(send_counted)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._flush_periodically)
                await run_pool(counted, self._work_and_record,
                               concurrency=self.api.settings.effective_concurrency)
                tg.cancel_scope.cancel()
        finally:  # answers that came back before a stop are outcomes: journal them
            with anyio.CancelScope(shield=True):
                await self._flush()

    async def _work_and_record(self, job: Job) -> None:
        self._not_started.difference_update(rownos(job))
        try:
            outcomes = await self.requests.outcomes(job)
        finally:
            self.outstanding.done()
        if outcomes:
            self._tally(outcomes)
        self._pending.extend(outcomes)

    async def _flush_periodically(self) -> None:
        while True:
            await anyio.sleep(FLUSH_EVERY_S)
            await self._flush()

    def _tally(self, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            self.counts[outcome.was] -= 1
            self.counts[outcome.state] += 1
        lost = [o for o in outcomes if o.state in UNRESOLVED and not o.awaiting]
        if len(lost) < len(outcomes):  # an answer came back
            self._streak = 0
            return
        self._streak += 1
        if self._streak >= GIVE_UP_STREAK:
            raise ApiUnreachable(f"{self._streak} requests in a row got no answer from the "
                                 f"API (last: {lost[-1].error})")

    async def _flush(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            # Shielded: cancelled while it waited for the journal (the periodic flush is, when
            # its senders end), the outcomes it had taken were lost, and their rows left to
            # be found in a listing, or sent again.
            with anyio.CancelScope(shield=True):
                await self.serial(self.journal.record, batch)
            if self.settlement is not None and any(o.awaiting for o in batch):
                self.settlement.poke()  # batches to verify: their time counts from now

    # -- reconcile and verify --------------------------------------------------------------

    async def _resend(self, rows: list[tuple[int, str, str | None, str, str | None]],
                      rounds_left: int | None) -> None:
        self._not_started.update(row[0] for row in rows)

        async def produce(send: Send[Job]) -> None:
            updates: list[tuple[int, str, dict[str, str]]] = []
            creates: list[CreateJob] = []
            for rowno, state, lead_id, raw, _ in rows:
                built = self.input.rebuild(raw)
                if built.payload is None:
                    self._pending.append(Outcome(rowno, RowState.REJECTED, error=built.error))
                elif state == RowState.UPDATING and lead_id:
                    updates.append((rowno, lead_id, built.changes()))
                else:
                    creates.append(CreateJob(rowno, built.payload))
            # Only a row with an email can be found in a listing: only those are batched.
            batchable = [job for job in creates if job.payload.get("email")]
            if self.policy.resend_in_batches(len(batchable), rounds_left):
                size = self.policy.size
                for start in range(0, len(batchable), size):
                    await send(BatchJob(batchable[start:start + size]))
                creates = [job for job in creates if not job.payload.get("email")]
            for job in creates:
                await send(job)
            for start in range(0, len(updates), UPDATE_BATCH):
                await send(UpdateJob(updates[start:start + UPDATE_BATCH]))

        self._streak = 0
        await self._send(produce)
        await self._refresh_counts()

    # -- progress and the end --------------------------------------------------------------

    async def _refresh_counts(self) -> None:
        await self._flush()  # outcomes still in memory are counted already: journal them first
        self.counts.update(await self.serial(self.journal.counts))

    def progress(self) -> ImportProgress:
        c, stats = self.counts, self.api.stats
        return ImportProgress(
            phase=self.phase, rows_done=sum(c[s] for s in FINAL),
            fraction_read=self.source.fraction_read(), created=c[RowState.CREATED],
            updated=c[RowState.UPDATED], skipped=c[RowState.SKIPPED_DUPLICATE],
            rejected=c[RowState.REJECTED], failed=c[RowState.FAILED],
            in_flight=sum(c[s] for s in UNRESOLVED), requests=stats.requests,
            retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=time.monotonic() - self.started,
            per_minute=self.api.quota.per_minute, waiting_s=self.api.waiting_s(),
            rows_before=self.rows_before,
            sending=self.policy.describe() if self.policy.uses_batches else "",
            leads_per_request=self.policy.size if self.policy.state == "batch" else 1.0)

    async def _notices(self, rows_read: int) -> list[str]:
        whole_file = (await self.serial(self.journal.meta)).get("read_done")
        said = self.input.notices(await self.serial(self.journal.notes),
                                  rows_read=rows_read if whole_file else None)
        said += self.source.notices() + self.policy.notices()
        if self.email_notice:
            said.append(self.email_notice)
        for notice in said:
            log.info("note: %s", notice)
        return said

    async def _finish(self, ended: Ended) -> ImportReport:
        if self.client_lock is not None:
            self.client_lock.release()
        await self._flush()
        if self._not_started:  # stopped (every sender has ended): these never left
            unsent, self._not_started = sorted(self._not_started), set()
            await self.serial(self.journal.mark_unsent, unsent)
        counts = await self.serial(self.journal.counts)
        totals = job_totals(self.stats_before, self.api.stats, self.started)
        await self.serial(self.journal.set_meta, stats=totals)  # the job's totals over its runs
        report = ImportReport(
            rows_read=sum(counts[s] for s in FINAL), created=counts[RowState.CREATED],
            updated=counts[RowState.UPDATED], skipped_duplicate=counts[RowState.SKIPPED_DUPLICATE],
            rejected=counts[RowState.REJECTED], failed=counts[RowState.FAILED],
            requests=totals["requests"], retries=totals["retries"],
            rate_limited=totals["rate_limited"], elapsed_s=totals["elapsed_s"],
            strategy=self.options.strategy, batch_requests=totals["batch_requests"],
            repaired_rows=await self.serial(self.journal.rows_noted, "quotes"), client=self.slug,
            job_dir=str(self.job_dir), interrupted=ended != Ended.DONE,
            unmapped_columns=self.input.unmapped(),
            read_as=self.reader.describe())
        for key, value in (await self.serial(self.journal.batch_figures)).items():
            setattr(report, key, value)
        meta = await self.serial(self.journal.meta)
        report.listed_late_s = round(float(meta.get("batch_lateness_s", 0.0)), 1)
        report.notices = await self._notices(report.rows_read)
        ext = "csv" if self.source.format == "csv" else "ndjson"
        rejects_path = self.options.rejects or self.job_dir / f"rejects.{ext}"
        rejected = await anyio.to_thread.run_sync(
            lambda: write_rejects(rejects_path, self.source.format, list(self.reader.columns),
                                  str(self.journal.meta().get("delimiter", ",")),
                                  self.journal.rejects(), raw=self.options.csv_raw))
        report.rejects_path = str(rejects_path) if rejected else None
        report.report_path = write_report(self.options.report or self.job_dir / "report.json", report)
        if self.on_progress is not None and self.phase != "starting":
            self.phase = ended
            self.on_progress(self.progress())
        return report
