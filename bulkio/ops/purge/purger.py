"""bulkio purge: empty a client with concurrent 50-id batch deletes, verified, resumable.

Rounds:

    enumerate every lead of the client (ids into the spool, on disk)
    -> delete the spooled ids, 50 a request, many requests at once under the quota
    -> enumerate again: whatever is still there is what the deletes did not do
    ... until nothing is left, or a round deletes nothing (then stop and say what is left)

Enumeration never overlaps deletion: a cursor may skip rows when rows before it disappear.
The answers of the deletes are only counted, never trusted: `deleted` lower than the ids
sent, an error, a lost answer all mean "unknown until the next enumeration". Every enumerated
record's `client_id` is checked, so a lead of another client is never sent for deletion.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from ...errors import ApiError, AuthError, ConfigError, TransportError
from ...leadgenius.client import MAX_BATCH_DELETE, LeadGeniusClient
from ...models import Client, Ended, PurgeProgress, PurgeReport
from ...store.db import FINISHED, RUNNING
from ...store.purge_spool import PurgeSpool
from ...store.serial import Serial
from ..pool import Send, run_pool
from ..runs import job_totals, run_then_finish, write_report

log = logging.getLogger("bulkio.purge")

BATCHES_READ = 100  # batches read from the spool at a time
Confirm = Callable[[Client, int], Awaitable[bool]]


class Refused(ConfigError):
    """The person at the terminal did not confirm the purge."""


class Purger:
    """One run of one purge job. Use `purge_client` rather than this class directly."""

    def __init__(self, api: LeadGeniusClient, client: Client, spool: PurgeSpool, job_dir: Path,
                 *, delete_client: bool, confirm: Confirm | None, report_path: Path | None,
                 on_progress: Callable[[PurgeProgress], None] | None) -> None:
        self.api = api
        self.client = client
        self.spool = spool
        self.serial = Serial()
        self.job_dir = job_dir
        self.delete_client = delete_client
        self.confirm = confirm
        self.report_path = report_path
        self.on_progress = on_progress
        self.phase = "starting"
        self.started = time.monotonic()
        meta = spool.meta()
        self.stats_before = meta.get("stats", {})
        self.round = int(meta.get("round", 0))
        self.found = meta.get("found")  # leads at the start (the first enumeration)
        self.remaining = meta.get("remaining")  # leads at the latest enumeration
        self.enumerated = 0  # ids found so far in this round's enumeration
        self.sent = 0  # ids sent for deletion in this run
        self.claimed = 0  # what the answers said they deleted (counted, never trusted)
        self.foreign = 0  # enumerated records of another client (never deleted)
        self.client_deleted = bool(meta.get("client_deleted", False))

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> PurgeReport:
        return await run_then_finish(self._purge, self._report, self.progress,
                                     self.on_progress)

    async def _purge(self) -> None:
        meta = await self.serial(self.spool.meta)
        if meta.get("status") == FINISHED:
            return
        if self.round == 0:
            await self.serial(self.spool.set_meta, client=self.client.slug,
                              client_uuid=self.client.id, status=RUNNING)
            await self._next_round()
        while True:
            meta = await self.serial(self.spool.meta)
            if meta["phase"] == "enumerating":
                await self._enumerate(meta.get("token"))
                if not await self._counted():
                    break
            await self._delete_spooled()
            await self._next_round()
        log.info("the delete answers counted %d deleted; the listings say %d", self.claimed,
                 (self.found or 0) - (self.remaining or 0))
        if self.remaining == 0 and self.delete_client and not self.client_deleted:
            self.phase = "deleting the client record"
            await self.api.delete_client(self.client.id)  # never purge=true: nothing is left
            self.client_deleted = True
        await self.serial(self.spool.set_meta, status=FINISHED,
                          client_deleted=self.client_deleted)

    async def _next_round(self) -> None:
        self.round += 1
        self.enumerated = 0
        await self.serial(self.spool.start_round, self.round)

    async def _enumerate(self, token: str | None) -> None:
        """Every lead id of the client into the spool, page by page (resumable by token)."""
        self.phase = f"round {self.round}: listing the client's leads"
        self.enumerated = await self.serial(self.spool.count)
        cursor = token if self.enumerated else None
        try:
            await self._list(cursor)
        except ApiError as error:
            if cursor is None or error.status != 400:
                raise
            log.warning("the server no longer accepts the saved cursor (%s); listing %s again "
                        "from the start", error, self.client.slug)
            await self.serial(self.spool.start_round, self.round)
            self.enumerated = 0
            await self._list(None)
        if self.foreign:
            log.warning("%d listed record(s) did not belong to %s and were left alone",
                        self.foreign, self.client.slug)

    async def _list(self, cursor: str | None) -> None:
        async for page in self.api.lead_pages(self.client.slug, fields=["client_id"],
                                              cursor=cursor):
            ids = []
            for record in page.items:
                if record.get("client_id") != self.client.slug or record.get("id") is None:
                    self.foreign += 1  # the server listed what is not this client's: leave it
                    continue
                ids.append(str(record["id"]))
            await self.serial(self.spool.add_page, ids, page.next_token)
            self.enumerated += len(ids)

    async def _counted(self) -> bool:
        """After an enumeration: record what it found; False when the purge is over."""
        count = await self.serial(self.spool.count)
        previous = self.remaining
        self.remaining = count
        if self.found is None:
            self.found = count
            asking = count or self.delete_client  # nothing at all to delete: nothing to ask
            if asking and self.confirm is not None and not await self.confirm(self.client, count):
                raise Refused(f"purge of {self.client.slug} not confirmed; nothing was deleted")
        await self.serial(self.spool.set_meta, found=self.found, remaining=count,
                          phase="deleting")
        if count == 0:
            return False
        if previous is not None and self.round > 1 and count >= previous:
            log.error("round %d deleted nothing: %d lead(s) remain in %s", self.round - 1, count,
                      self.client.slug)
            return False
        return True

    async def _delete_spooled(self) -> None:
        self.phase = f"round {self.round}: deleting"

        async def produce(submit: Send[list[tuple[int, str]]]) -> None:
            after = 0
            while batches := await self.serial(self.spool.batches, MAX_BATCH_DELETE, after,
                                               BATCHES_READ):
                for batch in batches:
                    await submit(batch)
                after = batches[-1][-1][0]

        async def work(batch: list[tuple[int, str]]) -> None:
            try:
                self.claimed += await self.api.delete_leads([i for _, i in batch])
            except AuthError:
                raise
            except (ApiError, TransportError) as error:
                # Unknown, not failed: the next enumeration says whether they went.
                log.info("a batch delete failed (%s); its leads are checked next round", error)
            self.sent += len(batch)
            await self.serial(self.spool.mark_sent, [n for n, _ in batch])

        await run_pool(produce, work, concurrency=self.api.settings.effective_concurrency)

    # -- progress and report ---------------------------------------------------------------

    def progress(self) -> PurgeProgress:
        stats = self.api.stats
        return PurgeProgress(
            phase=self.phase, round=self.round, found=self.found, remaining=self.remaining,
            enumerated=self.enumerated, sent=self.sent, requests=stats.requests,
            retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=time.monotonic() - self.started, per_minute=self.api.quota.per_minute,
            waiting_s=self.api.waiting_s())

    async def _report(self, ended: Ended) -> PurgeReport:
        totals = job_totals(self.stats_before, self.api.stats, self.started)
        await self.serial(self.spool.set_meta, stats=totals)
        found = self.found or 0
        remaining = found if self.remaining is None else self.remaining
        report = PurgeReport(
            found=found, deleted=max(found - remaining, 0), remaining=remaining,
            rounds=self.round, requests=totals["requests"], retries=totals["retries"],
            rate_limited=totals["rate_limited"], elapsed_s=totals["elapsed_s"],
            client_deleted=self.client_deleted, client=self.client.slug,
            job_dir=str(self.job_dir), interrupted=ended != Ended.DONE)
        report.report_path = write_report(self.report_path or self.job_dir / "report.json", report)
        if self.on_progress is not None and self.phase != "starting":
            self.phase = ended
            self.on_progress(self.progress())
        return report


def requests_needed(leads: int, *, bulk: bool) -> int:
    """About how many requests a purge of `leads` costs: the deletes, and two enumerations."""
    page = 5000 if bulk else 1000
    return math.ceil(leads / MAX_BATCH_DELETE) + 2 * max(1, math.ceil(leads / page))
