"""`bulkio campaign upload`: a job's records into a legacy enrichment campaign, each once.

An upload is not idempotent: every record sent is a record, enriched and paid from the
allowance. So each request is journalled before it is sent, and a request whose answer is
lost is never sent again blindly. The API stores an upload within 30 s of its arrival or never
(`--settle`); once that has passed, the campaign's newest records are read back (results come
in creation order: only the tail after the newest id known before the request), and only the
records whose keys are not there are sent again. One read-back serves every request in doubt
by then, and the other requests keep going out meanwhile.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

import anyio

from ...enrichment.client import EnrichmentClient
from ...errors import (
    ApiError,
    ConfigError,
    ConnectError,
    Interrupted,
    OutcomeUnknown,
    TransientApiError,
)
from ...store.campaign_journal import CampaignJournal
from ...store.serial import Serial
from .job import MAX_BATCH, UploadOptions
from .read_back import ReadBack

log = logging.getLogger("bulkio.campaigns")
SENDERS = 4  # requests in flight: enough to keep the quota busy while answers come back
RECORD_INDEX = re.compile(r"Record (\d+):")
ALLOWANCE = "Monthly allowance exceeded"
GATEWAY = frozenset({502, 504})


class CampaignRefused(ConfigError):
    """The API refused the upload itself (its type, fields, slug...): every request would be."""


class Uploader:
    def __init__(self, api: EnrichmentClient, journal: CampaignJournal, options: UploadOptions,
                 *, on_change: Callable[[], None] | None = None) -> None:
        self.api = api
        self.journal = journal
        self.serial = Serial()
        self.options = options
        self.batch_size = max(1, min(MAX_BATCH, options.batch_size))
        self.on_change = on_change
        self.in_flight = 0
        self.upload_requests = 0
        self.recovered = 0
        self.accepted = 0  # records this run put in the campaign (answered, or found)
        self.in_doubt = 0  # records whose request's answer was lost, not read back yet
        self._gateway_failures = 0
        self._changed = anyio.Event()
        self.reader = ReadBack(api, options.campaign)

    def _poke(self) -> None:
        self._changed.set()
        self._changed = anyio.Event()
        if self.on_change is not None:
            self.on_change()

    async def _db(self, call: Callable[..., Any], *args: Any) -> Any:
        return await self.serial(call, *args)

    # -- the run -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Until every record is uploaded, failed or held; raises what stops it early."""
        if await self._db(self.journal.orphans_in_doubt):
            log.warning("requests the last run sent got no answer: their records are looked "
                        "for in the campaign before any is sent again")
        limiter = anyio.Semaphore(SENDERS)
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._read_backs)
            while True:
                changed = self._changed  # before the checks: a change during them wakes us
                await limiter.acquire()
                taken = await self._db(self.journal.take_batch, self.batch_size)
                if taken is not None:
                    self.in_flight += 1
                    batch, rows = taken
                    tg.start_soon(self._send, batch, rows, limiter)
                    continue
                limiter.release()
                if not self.in_flight and not await self._db(self.journal.in_doubt):
                    break
                await changed.wait()
            tg.cancel_scope.cancel()

    async def _send(self, batch: int, rows: list[tuple[int, str, dict[str, Any]]],
                    limiter: anyio.Semaphore) -> None:
        o = self.options
        try:
            self.upload_requests += 1
            ids = await self.api.upload(o.campaign, o.type, o.fields, [r for _, _, r in rows],
                                        o.webhook_url)
        except OutcomeUnknown as lost:
            await self._db(self.journal.lost, batch, str(lost.cause))
            self.in_doubt += len(rows)
            self._count_gateway(lost.cause)
        except (TransientApiError, ConnectError) as down:  # certainly not stored (a 503, a
            await self._db(self.journal.unsent, batch)     # refused connection), past retries
            raise Interrupted(f"the enrichment API is not answering ({down})") from None
        except ApiError as refused:
            await self._refused(batch, rows, refused)
        else:
            self._gateway_failures = 0
            await self._db(self.journal.answered, batch, ids)
            self.accepted += len(ids)
        finally:
            self.in_flight -= 1
            limiter.release()
            self._poke()

    def _count_gateway(self, cause: BaseException) -> None:
        if getattr(cause, "status", None) not in GATEWAY:
            return
        self._gateway_failures += 1
        if self._gateway_failures >= 2 and self.batch_size > 1:
            self.batch_size //= 2
            self._gateway_failures = 0
            log.warning("the gateway timed out twice in a row: %d records a request from now "
                        "on", self.batch_size)

    async def _refused(self, batch: int, rows: list[tuple[int, str, dict[str, Any]]],
                       refused: ApiError) -> None:
        """A 4xx: nothing of the request was stored. A record it names fails alone (the
        others go again); a refusal of the request itself stops the job."""
        said = refused.message
        named = RECORD_INDEX.search(said)
        if named and int(named.group(1)) < len(rows):
            n = rows[int(named.group(1))][0]
            await self._db(self.journal.refused, batch, {n: f"refused by the API: {said}"})
            return
        await self._db(self.journal.refused, batch, {})
        if ALLOWANCE in said:
            raise Interrupted(f"this period's enrichment allowance ran out ({said})",
                              when="once the allowance is renewed")
        raise CampaignRefused(f"the enrichment API refused the upload (HTTP {refused.status}): "
                              f"{said}")

    # -- lost answers ------------------------------------------------------------------------

    async def _read_backs(self) -> None:
        while True:
            changed = self._changed
            doubts = await self._db(self.journal.in_doubt)
            if not doubts:
                await changed.wait()
                continue
            now = time.time()
            due = [d for d in doubts if d[1] + self.options.settle <= now]
            if not due:
                wait = min(lost_at for _, lost_at, _ in doubts) + self.options.settle - now
                with anyio.move_on_after(max(0.0, wait)):
                    await changed.wait()
                continue
            await self._read_back(due)
            self._poke()

    async def _read_back(self, batches: list[tuple[int, float, int]]) -> None:
        """Look for these requests' records in the campaign (ops.campaigns.read_back); what
        is not there was never stored, and goes again."""
        ids = [b for b, _, _ in batches]
        keys: dict[str, int] = await self._db(self.journal.doubt_rows, ids)
        floor = min(f for _, _, f in batches)
        settled = max(lost_at for _, lost_at, _ in batches) + self.options.settle
        ceiling = await self._db(self.journal.first_id_sent_after, settled)
        if ceiling is None:
            ceiling = await self.reader.newest() + 1
        meta = await self._db(self.journal.meta)
        before = int(meta.get("campaign_count", 0)) + await self._db(self.journal.ours_up_to,
                                                                     floor)
        ours = set(await self._db(self.journal.ours_between, floor, ceiling))
        found = await self.reader.find(keys, floor, ceiling, before=before, ours=ours)
        await self._db(self.journal.resolved, ids, found)
        self.recovered += len(found)
        self.accepted += len(found)
        self.in_doubt = max(0, self.in_doubt - len(keys))
        log.info("read back %d request(s) whose answer was lost: %d records were stored, %d "
                 "were not and go again", len(ids), len(found), len(keys) - len(found))
