"""Tracking runs to their end (`--wait`, `bulkio process status`): status polls are requests
under the same quota as the triggers, so each run is polled as few times as it takes.

A run is first polled when a typical run would have ended: the median of the durations seen
so far (from the server's createdAt to its finishedAt); until a few are known, the first runs
are polled after a second, to learn it, and the others after 10 s (rescheduled once it is
known). If it is
still going, the next poll comes when it is half as old again (at least 2 s, at most 60 s
later): with runs of 5-30 s that is about two polls a run. A run still not final
--wait-timeout after it started is left as it is and reported as still running.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections import deque
from typing import Any

import anyio

from ...errors import ApiError, AuthError, TransportError
from ...leadgenius.client import LeadGeniusClient
from ...leadgenius.processing import FINAL_STATUSES
from ...store.process_journal import NEVER, ProcessJournal
from ...store.serial import Serial
from .lookup import epoch

log = logging.getLogger("bulkio.process")

FIRST_POLL_S = 10.0  # before any run has been seen to end
SAMPLES = 5  # durations seen before their median is trusted
PROBE_S = 1.0  # the first runs' first poll, to learn how long runs take
PROBES = 8
LATEST = 200  # the durations whose median says when to poll first
GROWTH = 1.5
MIN_GAP_S, MAX_GAP_S = 2.0, 60.0
RETRY_GAP_S = 5.0  # after a poll that failed
BURST = 200  # due runs read from the journal at a time


def final(status: str) -> bool:
    return status.upper() in FINAL_STATUSES


class Tracker:
    """Polls the job's open runs as they fall due, until none is left (and no trigger can add
    one), or each has passed --wait-timeout."""

    def __init__(self, api: LeadGeniusClient, journal: ProcessJournal, serial: Serial, *,
                 wait_timeout: float, concurrency: int) -> None:
        self.api = api
        self.journal = journal
        self.serial = serial
        self.wait_timeout = wait_timeout
        self.limiter = anyio.CapacityLimiter(max(1, concurrency))
        self.triggering = True  # while True, new runs may still come
        self._more = anyio.Event()
        self.first_poll_s = FIRST_POLL_S
        self.learned = False
        self.probes = 0
        self.polls = 0
        self.durations: deque[float] | None = None  # the latest runs' durations

    def first_poll(self) -> float:
        """When a new run should first be polled, from its start."""
        if not self.learned and self.probes < PROBES:
            self.probes += 1
            return min(PROBE_S, self.wait_timeout)
        return min(self.first_poll_s, self.wait_timeout)

    def runs_added(self) -> None:
        self._more.set()

    def triggering_over(self) -> None:
        self.triggering = False
        self._more.set()

    async def learn(self, took: float | None = None) -> None:
        """The first poll from the median of the latest durations: read from the journal
        once, then kept up to date here as runs end."""
        if self.durations is None:
            self.durations = deque(reversed(await self.serial(self.journal.durations)),
                                   maxlen=LATEST)
        if took is not None:
            self.durations.append(took)
        durations = self.durations
        if len(durations) >= SAMPLES:
            was = self.first_poll_s
            self.first_poll_s = max(PROBE_S, statistics.median(durations))
            if not self.learned or self.first_poll_s < was / 2:
                await self.serial(self.journal.reschedule_unpolled, self.first_poll())
            self.learned = True

    async def run(self) -> None:
        await self.learn()
        while True:
            if await self._poll_due():
                continue
            upcoming = await self.serial(self.journal.next_poll)
            if upcoming is None and not self.triggering:
                return
            self._more = anyio.Event()
            wait = 1.0 if upcoming is None else max(0.0, upcoming - time.time())
            with anyio.move_on_after(min(wait, 5.0)):
                await self._more.wait()

    async def poll_due_once(self) -> None:
        """Poll every run that is due now, once (`bulkio process status` without --wait)."""
        await self.learn()
        polled: set[str] = set()
        while await self._poll_due(skip=polled):
            pass

    async def _poll_due(self, skip: set[str] | None = None) -> bool:
        """Poll the runs due now; False when none was."""
        due = [d for d in await self.serial(self.journal.due_runs, time.time(), BURST)
               if skip is None or d[0] not in skip]
        async with anyio.create_task_group() as tg:
            for run_id, created, polls in due:
                if skip is not None:
                    skip.add(run_id)
                tg.start_soon(self._poll, run_id, created, polls)
        return bool(due)

    async def _poll(self, run_id: str, created: float, polls: int) -> None:
        async with self.limiter:
            try:
                run = await self.api.run_status(run_id)
            except AuthError:
                raise
            except ApiError as error:
                if error.status == 404:
                    await self.serial(self.journal.polled, run_id, "FAILED",
                                      "the server no longer knows this run", NEVER, None)
                    return
                await self._again(run_id, created, polls, str(error), RETRY_GAP_S)
                return
            except TransportError as error:
                await self._again(run_id, created, polls, str(error), RETRY_GAP_S)
                return
        self.polls += 1
        status = str(run.get("status") or "UNKNOWN").upper()
        if final(status):
            took = _took(run, created)
            status = status if status in ("COMPLETED", "FAILED") else (
                "CANCELED" if "CANCEL" in status else "FAILED")
            await self.serial(self.journal.polled, run_id, status,
                              str(run["error"]) if run.get("error") else None, NEVER, took)
            await self.learn(took)
            return
        await self._again(run_id, created, polls, None, None, status=status)

    async def _again(self, run_id: str, created: float, polls: int, error: str | None,
                     gap: float | None, status: str | None = None) -> None:
        now = time.time()
        age = now - created
        if age >= self.wait_timeout:
            log.warning("run %s is still %s %.0f s after it started (--wait-timeout): no "
                        "longer tracked", run_id, (status or "unfinished").lower(), age)
            await self.serial(self.journal.polled, run_id, status or "EXECUTING",
                              f"still running after --wait-timeout ({self.wait_timeout:g} s)",
                              NEVER, None)
            return
        if gap is None:
            gap = min(MAX_GAP_S, max(MIN_GAP_S, age * (GROWTH - 1)))
        gap = min(gap, max(0.0, created + self.wait_timeout - now) + 0.001)
        await self.serial(self.journal.polled, run_id, status, error, now + gap, None)
        if polls > 20:
            log.debug("run %s polled %d times", run_id, polls + 1)


def _took(run: dict[str, Any], created_here: float) -> float | None:
    """How long a finished run took, by the server's own clock when it says."""
    start, end = epoch(run.get("createdAt")), epoch(run.get("finishedAt"))
    if start is not None and end is not None and end >= start:
        return end - start
    return max(0.0, time.time() - created_here)
