"""Runs the service's jobs on the engine the CLI uses, one at a time (they share the
identity's quota), the others queued. Each job's bulkio job directory is DATA_DIR/jobs/<id>:
after the service is killed and started again, a job that was in progress resumes from its
journal (exactly once, as `--resume` does), and queued ones run in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..api import export_leads, import_leads, purge_client
from ..errors import BulkioError, Interrupted
from ..leadgenius.client import open_client
from ..leadgenius.settings import Settings
from ..models import ImportProgress
from ..ops.exports.job import ExportOptions
from ..ops.imports.job import ImportOptions
from ..ops.imports.undo import undo_import
from ..ops.purge.job import PurgeOptions
from .paths import without_paths
from .retention import job_dir
from .store import OPEN, JobStatus, ServiceStore

log = logging.getLogger("bulkio.service")


@dataclass
class Live:
    """What a job's page shows while it runs (and what its events stream)."""

    status: JobStatus
    counts: dict[str, Any] = field(default_factory=dict)
    phase: str = ""
    rows_per_s: float = 0.0
    rate_limited: int = 0
    updated: float = field(default_factory=time.time)


class Runner:
    def __init__(self, store: ServiceStore, settings: Settings, data_dir: Path, *,
                 settle_s: float, notify: Callable[[str], None],
                 on_end: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.data_dir = data_dir
        self.settle_s = settle_s
        self.notify = notify  # a job changed: wake its event streams
        self.on_end = on_end  # a job ended: its webhook, if it has one
        self.queue: asyncio.Queue[str] = asyncio.Queue()
        self.live: dict[str, Live] = {}
        self.current: tuple[str, asyncio.Task[Any]] | None = None
        self.cancelled: set[str] = set()

    def job_dir(self, job_id: str) -> Path:
        return job_dir(self.data_dir, job_id)

    def submit(self, job_id: str) -> None:
        self.live[job_id] = Live(JobStatus.QUEUED)
        self.queue.put_nowait(job_id)
        self.notify(job_id)

    async def run(self) -> None:
        """Jobs left open by an earlier run first (in order), then new ones, forever.

        Supervised: a fault outside a job's own handling (an assertion, the service's database
        failing while a job ends) is logged and ends that job failed; the next job runs."""
        for job in self.store.unfinished():
            log.info("job %s was %s when the service stopped: it %s", job["job_id"],
                     job["status"], "resumes" if job["status"] == JobStatus.IN_PROGRESS else "runs")
            self.submit(job["job_id"])
        while True:
            job_id = await self.queue.get()
            if job_id in self.cancelled:
                continue
            try:
                await self._run_current(job_id)
            except Exception as fault:  # the loop must outlive any one job
                log.exception("job %s: the service met a fault running it; the next job runs",
                              job_id)
                self._fail_after_fault(job_id, fault)

    def _fail_after_fault(self, job_id: str, fault: Exception) -> None:
        message = (f"the service met a fault running this job ({type(fault).__name__}: "
                   f"{fault}); resume it to go on")
        try:
            job = self.store.job(job_id)
            assert job is not None, f"job {job_id} is not in the records"
            self._end(job, JobStatus.FAILED, message)
        except Exception:  # its records too: said; it resumes at the next start
            log.exception("job %s: its failure could not be recorded either", job_id)
            self.live[job_id] = Live(JobStatus.FAILED)
            self.notify(job_id)

    async def _run_current(self, job_id: str) -> None:
        """Run one job as the current one; a service stop leaves it in progress, to resume."""
        task = asyncio.ensure_future(self._run(job_id))
        self.current = (job_id, task)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():  # the service stops: the job records its outcomes and
                task.cancel()    # stays in progress, to resume at the next start
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                raise
        finally:
            self.current = None

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; False when it has already ended."""
        job = self.store.job(job_id)
        if job is None or job["status"] not in OPEN:
            return False
        self.cancelled.add(job_id)
        if self.current and self.current[0] == job_id:
            self.current[1].cancel()
        else:
            self.store.set_status(job_id, JobStatus.CANCELLED, "cancelled before it started")
            self.live[job_id] = Live(JobStatus.CANCELLED)
            self.notify(job_id)
        return True

    def resume(self, job_id: str) -> None:
        """Queue a failed or cancelled job again: it continues from its journal, exactly once
        (the caller has checked that it is resumable)."""
        self.cancelled.discard(job_id)
        self.store.reopen(job_id)
        log.info("job %s resumes", job_id)
        self.submit(job_id)

    async def _run(self, job_id: str) -> None:
        job = self.store.job(job_id)
        assert job is not None, f"job {job_id} is queued but not in the records"
        self.store.set_status(job_id, JobStatus.IN_PROGRESS)
        self.live[job_id] = Live(JobStatus.IN_PROGRESS, dict(job["counts"]))
        self.notify(job_id)
        try:
            report, ok = await self._operation(job)
        except asyncio.CancelledError:
            if job_id in self.cancelled:
                self._end(job, JobStatus.CANCELLED, "cancelled by the user")
                return
            raise
        except Interrupted as error:  # a passing cause (an outage): resumable, in our words
            self._end(job, JobStatus.FAILED, f"{error.reason}; stopped: resume the job once "
                                             "LeadGenius answers again")
            return
        except BulkioError as error:
            self._end(job, JobStatus.FAILED, str(error))
            return
        except Exception as error:  # a job's failure must not stop the service
            log.exception("job %s failed", job_id)
            self._end(job, JobStatus.FAILED, f"unexpected {type(error).__name__}: {error}")
            return
        self._end(job, JobStatus.COMPLETED, None if ok else "finished with problems: see the "
                                                            "errors", report)

    def _end(self, job: dict[str, Any], status: JobStatus, message: str | None,
             report: dict[str, Any] | None = None) -> None:
        """Record how a job ended, with every row counted: from its report (written by the
        operation however it ended), else from what it last showed."""
        job_id = job["job_id"]
        report = report or self._written_report(job_id)
        if report is not None:
            self.store.set_counts(job_id, counts_of(job, report))
        elif job_id in self.live and self.live[job_id].counts:
            self.store.set_counts(job_id, {**job["counts"], **self.live[job_id].counts})
        if message:
            message = without_paths(message, self.data_dir)
        if status == JobStatus.FAILED:
            log.warning("job %s failed: %s", job_id, message)
        self.store.set_status(job_id, status, message)
        live = self.live.setdefault(job_id, Live(status))
        live.status, live.updated = status, time.time()
        self.notify(job_id)
        if self.on_end is not None:
            self.on_end(job_id)

    def _written_report(self, job_id: str) -> dict[str, Any] | None:
        path = self.job_dir(job_id) / "bulkio" / "report.json"
        try:
            report: dict[str, Any] = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return report

    async def _operation(self, job: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Run the job (resuming it from its journal when it has one); its report and whether
        it went without problems."""
        request, job_id = job["request"], job["job_id"]
        job_dir = self.job_dir(job_id)
        bulkio_dir = job_dir / "bulkio"
        resume = bulkio_dir.exists() and any(bulkio_dir.iterdir())
        if job["kind"] == "import":
            options = ImportOptions(
                client=request["client"], mapping=str(job_dir / "mapping.json"),
                on_duplicate=request.get("on_duplicate", "update"), job_dir=bulkio_dir,
                resume=resume, settle_s=self.settle_s,
                notes_columns=request.get("notes_columns") or {},
                allow_no_email=request.get("allow_no_email") is True)
            report = await import_leads(str(job_dir / "input.csv"), settings=self.settings,
                                        options=options, on_progress=self._progress(job_id))
            return report.as_dict(), report.ok
        if job["kind"] == "export":
            options_e = export_options(job_dir, request, resume=resume)
            report_e = await export_leads(options_e.out, settings=self.settings,
                                          options=options_e)
            return report_e.as_dict(), True
        if job["kind"] == "undo":
            undone = request["of"]
            async with open_client(self.settings) as api:
                report_u = await undo_import(api, self.job_dir(undone) / "bulkio" / "journal.db",
                                             f"undo of import {undone}")
            return report_u.as_dict(), report_u.ok
        options_p = PurgeOptions(resume=resume, job_dir=bulkio_dir)
        report_p = await purge_client(request["client"], settings=self.settings,
                                      options=options_p)
        return report_p.as_dict(), report_p.ok

    def _progress(self, job_id: str) -> Callable[[ImportProgress], None]:
        def update(p: ImportProgress) -> None:
            live = self.live.setdefault(job_id, Live(JobStatus.IN_PROGRESS))
            live.counts = {"rows_done": p.rows_done, "created_count": p.created,
                           "updated_count": p.updated, "skipped_count": p.skipped,
                           "failed_count": p.rejected + p.failed,
                           "rejected_count": p.rejected, "send_failed_count": p.failed}
            live.phase = p.phase
            done_now = p.rows_done - p.rows_before
            live.rows_per_s = done_now / p.elapsed_s if p.elapsed_s > 0 else 0.0
            live.rate_limited = p.rate_limited
            live.updated = time.time()
            self.notify(job_id)
        return update

    def snapshot(self, job_id: str) -> dict[str, Any] | None:
        live = self.live.get(job_id)
        return None if live is None else asdict(live)


def export_options(job_dir: Path, request: dict[str, Any], *, resume: bool = False
                   ) -> ExportOptions:
    """An export job's options: its file(s) in the job's directory (export.<format>, or
    export.<kind>.<format> each when it exports both kinds)."""
    return ExportOptions(out=job_dir / f"export.{request.get('format', 'ndjson')}",
                         kind=request.get("kind", "enrich"), client=request.get("client") or "ALL",
                         fields=tuple(request["fields"]) if request.get("fields") else None,
                         format=request.get("format"), force=True, job_dir=job_dir / "bulkio",
                         resume=resume)


def counts_of(job: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """A job's counts, in the API's words, from its bulkio report."""
    if job["kind"] == "import":
        return import_counts(report, job["counts"].get("total_rows"))
    if job["kind"] == "export":
        return {"records": report.get("records", 0)}
    if job["kind"] == "undo":
        return {k: report.get(k, 0) for k in ("found", "deleted", "left", "updated_not_reverted")}
    return {k: report.get(k, 0) for k in ("found", "deleted", "remaining")}


def import_counts(report: dict[str, Any], total_rows: int | None) -> dict[str, Any]:
    """The LeadVibe API's counts from bulkio's report (a rejected or failed row is a failed
    row), and bulkio's two apart: rejected (bad data) and send-failed (could not be sent)."""
    return {"total_rows": total_rows if total_rows is not None else report["rows_read"],
            "rows_done": report["rows_read"], "created_count": report["created"],
            "updated_count": report["updated"], "skipped_count": report["skipped_duplicate"],
            "failed_count": report["rejected"] + report["failed"],
            "rejected_count": report["rejected"], "send_failed_count": report["failed"]}
