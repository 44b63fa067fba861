"""Settling lost answers: finding out from the client's own listing what happened to rows whose
create may or may not have been applied, and handing back the ones to send again.

A row's outcome is unknown from the moment its answer was lost (the journal's `unknown_at`;
for a row in flight when a run stopped, that run's last write). It can be looked up once the
server's own timeout (`--settle`) has passed since then, not before: the request may still be
running there. So:

- while rows stream, a background pass lists the client whenever rows have become due, at
  most once per interval: the settle time, or longer for a large client so that listing it
  takes at most a tenth of the quota; new rows never wait for it (a resumed run starts
  sending at once, whatever the previous run left in flight);
- at the end, a round waits only for the rows still unknown (each from its own time), then
  verifies every created lead (unless --no-verify) and re-sends what is missing; a few rounds
  at most, then what is still unknown has failed.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio

from ..client import MAX_BULK_PAGE, MAX_LEAD_PAGE, LeadGeniusClient
from ..journal import ImportJournal
from ..serial import Serial

log = logging.getLogger("bulkio.import")

MAX_ROUNDS = 4  # listing passes at the end: up to three rounds of re-sends
LISTING_SHARE = 0.1  # of the quota, at most, for background listings
MIN_INTERVAL_S = 5.0  # between background listings, whatever the settle time
RECHECK_S = 5.0  # the background task looks at the journal at least this often

Rows = list[tuple[int, str, str | None, str]]


class Settlement:
    """Settles one import's unknown outcomes. `resend(rows)` sends rows again through the
    importer's senders; `refresh()` brings its counts up to date; `say(phase)` shows a phase."""

    def __init__(self, api: LeadGeniusClient, journal: Serial, j: ImportJournal, slug: str,
                 settle_s: float, *, resend: Callable[[Rows], Awaitable[None]],
                 refresh: Callable[[], Awaitable[None]], say: Callable[[str], None]) -> None:
        self.api = api
        self.journal = journal
        self.j = j
        self.slug = slug
        self.settle_s = settle_s
        self.resend = resend
        self.refresh = refresh
        self.say = say
        self.client_size = 0  # leads at the latest listing
        self._listed_at = -math.inf  # monotonic
        self._stream_done = False
        self._poke = anyio.Event()

    # -- while rows stream -------------------------------------------------------------------

    async def in_background(self) -> None:
        """Settle due rows until `stream_ended()`; a pass under way is finished first."""
        while not self._stream_done:
            due_at = await self._next_pass_at()
            wait = RECHECK_S if due_at is None else min(RECHECK_S, due_at - time.time())
            with anyio.move_on_after(max(0.0, wait)):
                await self._poke.wait()
            if not self._stream_done and due_at is not None and time.time() >= due_at:
                await self._pass(due_before=time.time() - self.settle_s)

    def stream_ended(self) -> None:
        self._stream_done = True
        self._poke.set()

    async def _next_pass_at(self) -> float | None:
        """When the earliest unknown row is due, and the listing interval has passed."""
        first = await self.journal(self.j.unknown_since, earliest=True)
        if first is None:
            return None
        interval_left = self._listed_at + self._interval() - time.monotonic()
        return max(first + self.settle_s, time.time() + interval_left)

    def _interval(self) -> float:
        per_minute = self.api.quota.per_minute
        page = MAX_BULK_PAGE if self.api.auth.has_api_key else MAX_LEAD_PAGE
        pages = self.client_size / page + 1
        share = 0.0 if per_minute is None else pages / (LISTING_SHARE * per_minute) * 60
        return max(self.settle_s, MIN_INTERVAL_S, share)

    async def _pass(self, *, due_before: float) -> None:
        await self._list_client()
        found = await self.journal(self.j.reconcile, verify=False, final=False,
                                   due_before=due_before)
        rows = await self.journal(self.j.to_resend, due_before)
        log.info("settled in the background: %d lost answers had created their lead; %d rows "
                 "sent again", found["found"], len(rows))
        await self.refresh()
        if rows:
            await self.resend(rows)

    # -- at the end ---------------------------------------------------------------------------

    async def final_rounds(self, *, verify: bool) -> None:
        for round_ in range(1, MAX_ROUNDS + 1):
            if not verify and not await self.journal(self.j.unresolved_count):
                return
            await self._wait_for_the_last_unknown()
            self.say("verifying" if verify else "looking up rows with unknown outcome")
            await self._list_client()
            found = await self.journal(self.j.reconcile, verify=verify, final=round_ == MAX_ROUNDS)
            if found["found"] or found["missing"]:
                log.info("reconcile: %d lost answers had created their lead; %d leads missing",
                         found["found"], found["missing"])
            await self.refresh()
            rows = await self.journal(self.j.to_resend)
            if not rows:
                return
            self.say(f"re-sending {len(rows)} rows")
            await self.resend(rows)

    async def _wait_for_the_last_unknown(self) -> None:
        """Until the row whose answer was lost last is due (each row counts from its own loss)."""
        last = await self.journal(self.j.unknown_since, earliest=False)
        while last is not None and (left := last + self.settle_s - time.time()) > 0:
            self.say(f"waiting {left:.0f} s for requests in flight to settle")
            await anyio.sleep(min(1.0, left))

    async def _list_client(self) -> None:
        await self.journal(self.j.reset_snapshot)
        listed = 0
        async for page in self.api.lead_pages(self.slug, fields=["email"]):
            await self.journal(self.j.add_snapshot, emails_and_ids(page.items, keep_blank=True))
            listed += len(page.items)
        self.client_size = listed
        self._listed_at = time.monotonic()


def emails_and_ids(leads: Iterable[dict[str, Any]], keep_blank: bool = False
                   ) -> list[tuple[str, str]]:
    """(lower-cased email, id) of listed leads; leads without an email kept as "" if asked."""
    pairs = []
    for lead in leads:
        lead_id = lead.get("id")
        email = str(lead.get("email") or "").strip().lower()
        if lead_id and (email or keep_blank):
            pairs.append((email, str(lead_id)))
    return pairs
