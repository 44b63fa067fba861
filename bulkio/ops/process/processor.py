"""bulkio process: trigger enrich, copyright or SDR AI for every selected lead, each lead once,
and (with --wait) track every run to its end.

    read the settings (which services can run at all; none is a one-line error)
    -> select the leads into the journal (the client's projected listing, --where, --leads)
    -> trigger them under the quota, each journalled as attempted before its request;
       a lost answer is looked up in the recent runs in the background (lookup)
    -> with --wait, poll every run with back-off under the same quota (tracking)

A trigger is never sent twice: a lead leaves `pending` only through its own journalled
attempt, and an attempt whose answer was lost is settled by what the server shows, not by
sending it again (unless the server shows that it never ran).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import orjson

from ...errors import ApiError, AuthError, ConfigError, Interrupted, OutcomeUnknown, TransportError
from ...leadgenius.client import LeadGeniusClient
from ...models import Ended
from ...store.db import FINISHED
from ...store.files import atomic_write
from ...store.process_journal import LeadState, ProcessJournal
from ...store.serial import Serial
from ..pool import Send, run_pool
from ..runs import job_totals, run_then_finish, write_report
from .lookup import Lookup
from .plan import Plan, ProcessSpec, select
from .report import ProcessProgress, ProcessReport
from .tracking import Tracker

log = logging.getLogger("bulkio.process")

READ_AHEAD = 500  # pending leads read from the journal at a time
RUNS_IN_FLIGHT = 48  # runs that triggers in flight may start at once (see `concurrency`)
WINDOW_RUNS = 40  # runs the triggers sent since the oldest unanswered one may start (Window)
GIVE_UP_STREAK = 50  # consecutive triggers that failed without reaching the server
MAX_ROUNDS = 5  # passes over the pending leads (a lead the server never ran is sent again)


class Window:
    """Triggers are numbered as they go out; a new one waits while `size` have gone since the
    oldest one still unanswered. A run stopped at any moment (kill -9) then leaves, after its
    oldest trigger in flight, at most 2 x `size` triggers' runs: with WINDOW_RUNS, fewer than
    the 100 recent runs a resumed run reads first, so every trigger it looks up is in view
    (a slow answer among quick ones used to let them push it out)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.next = 0
        self.open: set[int] = set()
        self._changed = anyio.Event()

    async def enter(self) -> int:
        while self.open and self.next - min(self.open) >= self.size:
            await self._changed.wait()
        ticket, self.next = self.next, self.next + 1
        self.open.add(ticket)
        return ticket

    def leave(self, ticket: int) -> None:
        self.open.discard(ticket)
        self._changed.set()
        self._changed = anyio.Event()


class NothingToTrigger(ConfigError):
    """The selection holds no lead to trigger: the job is dropped, as nothing was sent."""


class Processor:
    """One run of one processing job. Use `bulkio.process_leads` rather than this class."""

    def __init__(self, api: LeadGeniusClient, journal: ProcessJournal, job_dir: Path,
                 spec: ProcessSpec, plan: Plan, *, wait: bool, wait_timeout: float,
                 settle_s: float, retrigger_unknown: bool, resumed: bool,
                 report_path: Path | None, out_path: Path | None,
                 on_progress: Callable[[ProcessProgress], None] | None) -> None:
        self.api = api
        self.journal = journal
        self.serial = Serial()
        self.job_dir = job_dir
        self.spec = spec
        self.plan = plan
        self.wait = wait
        self.retrigger_unknown = retrigger_unknown
        self.resumed = resumed
        self.report_path = report_path
        self.out_path = out_path
        self.on_progress = on_progress
        self.started = time.monotonic()
        self.stats_before = journal.meta().get("stats", {})
        self.phase = "starting"
        self.sent = 0
        self.streak = 0
        self.doubt = anyio.Event()
        self.tracker = Tracker(api, journal, self.serial, wait_timeout=wait_timeout,
                               concurrency=api.settings.effective_concurrency)
        self.lookup = Lookup(api, journal, self.serial, spec.kind, settle_s,
                             on_found=self._found, on_resend=self._resend,
                             runs_per_trigger=self.runs_per_trigger())
        self.window = Window(max(1, WINDOW_RUNS // self.runs_per_trigger()))
        self.notices: list[str] = []
        self.counts: dict[str, int] = journal.lead_counts()
        self.run_counts: dict[str, int] = journal.run_counts()

    async def run(self) -> ProcessReport:
        return await run_then_finish(self._work, self._finish, self.progress, self.on_progress)

    # -- the run -----------------------------------------------------------------------------

    async def _work(self) -> None:
        meta = await self.serial(self.journal.meta)
        if meta.get("status") == FINISHED:
            return
        if self.plan.not_configured:
            self.notices.append(skipped_notice(self.spec, self.plan))
            log.warning("%s", self.notices[-1])
        if self.resumed:
            stopped = await self.serial(self.journal.in_flight_to_doubt)
            if stopped:  # looked up before any new trigger can push their runs out of view
                log.info("%d trigger(s) were in flight when the last run stopped: looking "
                         "them up in the recent runs", stopped)
                self.lookup.doubted()
        if self.retrigger_unknown:
            again = await self.serial(self.journal.retrigger_unknown)
            log.warning("--retrigger-unknown: %d lead(s) whose trigger is unknown are sent "
                        "again", again)
        if not meta.get("selected"):
            await self._select()
        tracked = anyio.Event()

        async def track() -> None:
            await self.tracker.run()
            tracked.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(self.refresh)
            if self.wait:
                tg.start_soon(track)
            tg.start_soon(self._settle_doubts)
            for round_ in range(1, MAX_ROUNDS + 1):
                self.phase = "triggering"
                await self._trigger_pending()
                while await self.serial(self.journal.in_doubt):
                    self.phase = "looking up lost answers"
                    self.doubt.set()
                    await anyio.sleep(0.2)
                left = await self.serial(self.journal.pending_count)
                if not left:
                    break
                if round_ == MAX_ROUNDS:
                    log.error("%d lead(s) could not be triggered in %d rounds (the server did "
                              "not run them); --resume tries again", left, MAX_ROUNDS)
            self.tracker.triggering_over()
            self.phase = "tracking runs" if self.wait else Ended.DONE
            if self.wait:
                await tracked.wait()
            tg.cancel_scope.cancel()
        counts = await self.serial(self.journal.lead_counts)
        if not (counts[LeadState.PENDING] or counts[LeadState.UNKNOWN]):  # else --resume goes on
            await self.serial(self.journal.set_meta, status=FINISHED)

    async def _select(self) -> None:
        self.phase = "selecting leads"
        async for page in select(self.api, self.spec, self.plan):
            await self.serial(self.journal.add_selected, page)
            self.counts = await self.serial(self.journal.lead_counts)
        await self.serial(self.journal.set_meta, selected=True, plan=vars(self.plan))
        if not self.plan.to_trigger:
            what = ("none of the selected leads" if self.plan.selected
                    else "no lead matched the selection")
            raise NothingToTrigger(f"every lead would be skipped ({what}; "
                              f"{self.plan.already_filled} already have every target field: "
                              "--overwrite runs them again)")

    async def _settle_doubts(self) -> None:
        while True:
            await self.lookup.run()  # at once when nothing is in doubt
            await self.doubt.wait()
            self.doubt = anyio.Event()

    async def _trigger_pending(self) -> None:
        async def produce(submit: Send[tuple[int, str]]) -> None:
            after = 0
            while batch := await self.serial(self.journal.pending, after, READ_AHEAD):
                for item in batch:
                    await submit(item)
                after = batch[-1][0]

        await run_pool(produce, self._trigger, concurrency=self.concurrency())

    def concurrency(self) -> int:
        """Triggers in flight at once. The recent runs show 100 runs: when an answer is lost,
        the runs started by the triggers still in flight must not push its own out of view
        before it is looked up, so unless --concurrency says otherwise, at most
        RUNS_IN_FLIGHT runs can be starting at once (a few triggers keep the quota busy:
        Premium is 17 a second)."""
        settings = self.api.settings
        if settings.concurrency:
            return settings.concurrency
        return max(2, min(settings.effective_concurrency, RUNS_IN_FLIGHT // self.runs_per_trigger()))

    def runs_per_trigger(self) -> int:
        return 1 if self.spec.kind == "sdr" else max(1, len(self.plan.runnable))

    async def _trigger(self, item: tuple[int, str]) -> None:
        n, lead_id = item
        await self.lookup.admit()
        try:
            ticket = await self.window.enter()
            try:
                await self._send(n, lead_id)
            finally:
                self.window.leave(ticket)
        finally:
            self.lookup.done()

    async def _send(self, n: int, lead_id: str) -> None:
        await self.serial(self.journal.attempt, n)
        self.sent += 1
        try:
            answer = await self.api.trigger(self.spec.kind, lead_id, self.spec.items,
                                            overwrite=self.spec.overwrite)
        except AuthError:
            raise
        except OutcomeUnknown as error:
            self.streak = 0
            await self.serial(self.journal.lost, n, str(error))
            self.lookup.doubted()  # no new trigger until the recent runs are read
            self.doubt.set()
            return
        except ApiError as error:
            if error.status >= 500 or error.status == 429:  # retries ran out, never applied
                await self._not_sent(n, error)
                return
            self.streak = 0
            state = LeadState.NOT_FOUND if error.status == 404 else LeadState.REJECTED
            await self.serial(self.journal.ended, n, state, error.message or str(error))
            return
        except TransportError as error:  # never left: retries ran out
            await self._not_sent(n, error)
            return
        self.streak = 0
        self.lookup.note_answered(answer.run_ids, time.time(), answer.batch_tag)
        runs = [(run_id, self._task(answer.triggered, i)) for i, run_id in enumerate(answer.run_ids)]
        await self.serial(self.journal.triggered, n, runs, answer.triggered, answer.skipped,
                          answer.batch_tag, self.tracker.first_poll())
        self.tracker.runs_added()

    def _task(self, triggered: list[Any], index: int) -> str:
        if self.spec.kind == "sdr":
            return "sdr"
        name = triggered[index] if index < len(triggered) else "?"
        return f"{self.spec.kind}:{name}"

    async def _not_sent(self, n: int, error: BaseException) -> None:
        await self.serial(self.journal.unsent, n)
        self.streak += 1
        if self.streak >= GIVE_UP_STREAK:
            raise Interrupted(f"{self.streak} triggers in a row did not reach the server "
                              f"(last: {error})") from error
        log.info("a trigger did not reach the server (%s); it is sent again later", error)

    async def _found(self, n: int, runs: list[dict[str, Any]]) -> None:
        """Its answer was lost, its runs found: what was triggered is said in the server's own
        words (the runs' task identifiers, never parsed)."""
        tasks = [str(r.get("taskIdentifier") or self.spec.kind) for r in runs]
        await self.serial(self.journal.triggered, n, [(str(r["id"]), t) for r, t in zip(
            runs, tasks, strict=True)], tasks, [], runs[0].get("batchTag"),
            self.tracker.first_poll())
        self.tracker.runs_added()

    async def _resend(self, n: int) -> None:
        await self.serial(self.journal.unsent, n)

    # -- progress and report -----------------------------------------------------------------

    def progress(self) -> ProcessProgress:
        stats = self.api.stats
        counts, runs = self.counts, self.run_counts
        return ProcessProgress(
            phase=self.phase, leads=sum(counts.values()), to_send=counts[LeadState.PENDING],
            sent=self.sent, triggered=counts[LeadState.TRIGGERED],
            skipped=counts[LeadState.SKIPPED], in_doubt=counts[LeadState.ATTEMPTED], runs=runs["runs"],
            finished_runs=runs["completed"] + runs["failed"], requests=stats.requests,
            retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=time.monotonic() - self.started, per_minute=self.api.quota.per_minute,
            waiting_s=self.api.waiting_s())

    async def refresh(self) -> None:
        """Counts for the progress line, read from the journal every quarter second."""
        while True:
            self.counts = await self.serial(self.journal.lead_counts)
            self.run_counts = await self.serial(self.journal.run_counts)
            await anyio.sleep(0.25)

    async def _finish(self, ended: Ended) -> ProcessReport:
        totals = job_totals(self.stats_before, self.api.stats, self.started)
        await self.serial(self.journal.set_meta, stats=totals)
        report = await finish_report(self.journal, self.serial, totals, self.job_dir,
                                     self.spec.kind, tracked=self.wait,
                                     report_path=self.report_path, out_path=self.out_path)
        report.interrupted = ended != Ended.DONE
        report.notices = self.notices
        self.counts = await self.serial(self.journal.lead_counts)
        self.run_counts = await self.serial(self.journal.run_counts)
        if self.on_progress is not None:
            self.phase = ended
            self.on_progress(self.progress())
        return report


async def finish_report(journal: ProcessJournal, serial: Serial, totals: dict[str, Any],
                        job_dir: Path, kind: str, *, tracked: bool, report_path: Path | None,
                        out_path: Path | None) -> ProcessReport:
    """The report and the per-lead output, from the journal (a resumed job: the whole job)."""
    counts = await serial(journal.lead_counts)
    runs = await serial(journal.run_counts)
    report = ProcessReport(
        leads=sum(counts.values()), triggered=counts[LeadState.TRIGGERED],
        skipped=counts[LeadState.SKIPPED], not_found=counts[LeadState.NOT_FOUND],
        rejected=counts[LeadState.REJECTED], unknown=counts[LeadState.UNKNOWN],
        not_sent=counts[LeadState.PENDING] + counts[LeadState.ATTEMPTED], runs=runs["runs"],
        completed=runs["completed"], failed=runs["failed"], running=runs["running"],
        polls=runs["polls"], requests=totals["requests"], retries=totals["retries"],
        rate_limited=totals["rate_limited"], elapsed_s=totals["elapsed_s"], kind=kind,
        job_dir=str(job_dir), tracked=tracked)
    out = out_path or job_dir / "results.ndjson"
    lines = await serial(lambda: b"".join(orjson.dumps(r) + b"\n" for r in journal.results()))
    atomic_write(out, lines)
    report.out_path = str(out)
    report.report_path = write_report(report_path or job_dir / "report.json", report)
    return report



def skipped_notice(spec: ProcessSpec, plan: Plan) -> str:
    names = ", ".join(map(str, plan.not_configured))
    return (f"skipped for every lead: {names} (not configured in the company's "
            f"{plan.settings_kind} settings)")
