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

Batches (`batch`): a batch's rows are settled the same way, counting from its answer;
each listing tells the batch policy what the batches it has settled stored.

Leads created twice: a send that is stored (a batch stored late), or listed (a listing that
lags behind writes), after a listing said it was not there makes a second lead when its row
is sent again, by whatever path. Every listing looks for leads this job created twice
(`ImportJournal.find_extras`: the row's email and values, on a row sent more than once) and
deletes the extras, 50 a request, checked by the next listing; how late they were listed,
from their row's first answer, lengthens the settle time from then on. Before the job ends,
if any row was sent more than once, one more listing waits a settle time (or the lateness
seen, if longer) after the last such send: as a row is sent again only once its first send
is a settle time old, that covers a lead listed up to twice the settle time after its answer.

A listed row is created whenever it is listed: only "missing" has to wait for the settle time.
So `auto`'s first batch is looked for a second after its answer (when listing the client is
cheap): if it is all there, batching starts at once; and at the end, when the batch path
stores (nearly) everything, the client is listed before the settle time has passed: if every
row is there, the import ends without waiting it out.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio

from ...errors import ApiError, AuthError, TransportError
from ...leadgenius.client import MAX_BATCH_DELETE, MAX_BULK_PAGE, MAX_LEAD_PAGE, LeadGeniusClient
from ...store.import_journal import ImportJournal
from ...store.listing_checks import COMPARED, listed
from ...store.serial import Serial
from .batch import LISTING_SHARE, BatchPolicy

log = logging.getLogger("bulkio.import")

MAX_ROUNDS = 4  # listing passes at the end: up to three rounds of re-sends
BATCH_ROUNDS = 2  # more of them when batches are sent (their re-sends may be batches)
PROBE_LOOK_S = 0.5  # auto's first batch is looked for this soon (found is found at once)
PROBE_LOOK_PAGES = 10  # ... when listing the client takes at most this many pages
EARLY_LOOK_ABOVE = 0.9  # at the end, batches are looked for before the settle time when the
#                        batch path stores at least this share (else most must wait anyway)
LATE_CHECKS = 4  # listings at most for that check (each one that finds extras learns more)
MIN_INTERVAL_S = 5.0  # between background listings, whatever the settle time
RECHECK_S = 5.0  # the background task looks at the journal at least this often

Rows = list[tuple[int, str, str | None, str, str | None]]
Resend = Callable[[Rows, "int | None"], Awaitable[None]]


class Settlement:
    """Settles one import's unknown outcomes. `resend(rows, rounds_left)` sends rows again
    through the importer's senders (`rounds_left`: None while rows stream); `refresh()` brings
    its counts up to date; `say(phase)` shows a phase."""

    def __init__(self, api: LeadGeniusClient, serial: Serial, journal: ImportJournal, slug: str,
                 settle_s: float, policy: BatchPolicy, *, resend: Resend,
                 refresh: Callable[[], Awaitable[None]], say: Callable[[str], None]) -> None:
        self.api = api
        self.serial = serial
        self.journal = journal
        self.slug = slug
        self.base_settle_s = settle_s
        # the longest a batch was seen to take to be stored, by this job's runs
        self.lateness_s = float(journal.meta().get("batch_lateness_s", 0.0))
        self.policy = policy
        self.resend = resend
        self.refresh = refresh
        self.say = say
        self.client_size = journal.leads_before()  # leads at the latest listing
        self.started = time.time()  # lateness is measured on answers of this run only
        self.deleting = 0  # extras the latest listing sent for deletion
        self._probe_looked = 0  # the policy's probes this settlement has looked for early
        self._measured_until = 0.0  # batches answered up to then are measured
        # created rows not listed yet, but answered less than a settle time ago: the latest
        self.unverified_last: float | None = None
        self._listed_at = -math.inf  # monotonic
        self._stream_done = False
        self._poke = anyio.Event()

    @property
    def settle_s(self) -> float:
        return max(self.base_settle_s, self.lateness_s)

    # -- while rows stream -------------------------------------------------------------------

    async def in_background(self) -> None:
        """Settle due rows until `stream_ended()`; a pass under way is finished first."""
        while not self._stream_done:
            due_at = await self._next_pass_at()
            wait = RECHECK_S if due_at is None else min(RECHECK_S, due_at - time.time())
            with anyio.move_on_after(max(0.0, wait)):
                await self._poke.wait()
            if not self._stream_done and self._poke.is_set():
                self._poke = anyio.Event()
            if not self._stream_done and due_at is not None and time.time() >= due_at:
                if self._probe_look_due():
                    self._probe_looked = self.policy.probes
                await self._pass(due_before=time.time() - self.settle_s)

    def poke(self) -> None:
        """Rows are awaiting verification: look at when they are due now, not in 5 s."""
        self._poke.set()

    def stream_ended(self) -> None:
        self._stream_done = True
        self._poke.set()

    async def _next_pass_at(self) -> float | None:
        """When the earliest unknown row is due, and the listing interval has passed."""
        first = await self.serial(self.journal.unknown_since, earliest=True)
        if first is None:
            return None
        if self._probe_look_due():
            return first + min(self.settle_s, PROBE_LOOK_S)
        interval_left = self._listed_at + self._interval() - time.monotonic()
        return max(first + self.settle_s, time.time() + interval_left)

    def _probe_look_due(self) -> bool:
        """`auto`'s latest probe has not been looked for early yet (and listing is cheap)."""
        return self.policy.state == "probing" and self._probe_looked < self.policy.probes \
            and self._pages() <= PROBE_LOOK_PAGES

    def _pages(self) -> float:
        """Requests a listing of the client takes."""
        page = MAX_BULK_PAGE if self.api.auth.has_api_key else MAX_LEAD_PAGE
        return self.client_size / page + 1

    def _interval(self) -> float:
        per_minute = self.api.quota.per_minute
        share = 0.0 if per_minute is None else self._pages() / (LISTING_SHARE * per_minute) * 60
        return max(self.settle_s, MIN_INTERVAL_S, share)

    async def _pass(self, *, due_before: float) -> None:
        rows = await self._look(verify=False, due_before=due_before)
        await self.refresh()
        if rows:
            await self.resend(rows, None)

    async def _look(self, *, verify: bool, due_before: float | None = None) -> Rows:
        """List the client; settle rows (the due ones, with `due_before`); remove what this
        job created twice; tell the policy what the batches stored. The rows to send again
        (taken: a caller that does not send them leaves them to fail)."""
        await self._list_client()
        found = await self.serial(self.journal.reconcile, verify=verify, final=False,
                                   due_before=due_before,
                                   answered_before=time.time() - self.settle_s,
                                   run_start=self.started)
        await self._learn(found["listed_late_s"])
        self.unverified_last = found["unverified_last"] if found["unverified"] else None
        if self.policy.uses_batches:
            await self._measure(int(found["batch_found"]), due_before)
        rows = await self.serial(self.journal.to_resend, due_before)
        if found["found"] or rows:
            log.info("settled: %d rows found created (%d sent in batches); %d to send again",
                     found["found"], found["batch_found"], len(rows))
        self.deleting = await self._remove_extras()
        return rows

    async def _measure(self, found: int, due_before: float | None) -> None:
        """Tell the policy what the batches stored: the cohort of batches answered since the
        last measurement and now settled, decided whole; and, for `auto`'s first batch,
        whether all of it is already listed."""
        until = time.time() if due_before is None else due_before
        self.policy.probe_found(found)
        created, total = await self.serial(self.journal.batch_cohort, self._measured_until, until)
        self._measured_until = until
        self.policy.measured(created, total - created)

    async def _remove_extras(self) -> int:
        """Delete the leads this job created twice (never one that was there before, nor one
        written by someone else); how many were sent for deletion (the next listing checks
        they went)."""
        _, lateness = await self.serial(self.journal.find_extras, self.started)
        await self._learn(lateness or 0.0)
        ids = await self.serial(self.journal.extras_to_delete)
        if ids:
            self.say(f"removing {len(ids)} leads created twice")
        for start in range(0, len(ids), MAX_BATCH_DELETE):
            chunk = ids[start:start + MAX_BATCH_DELETE]
            log.info("deleting leads created twice by this job: %s", ", ".join(chunk))
            try:
                await self.api.delete_leads(chunk)
            except AuthError:
                raise
            except (ApiError, TransportError) as error:  # checked by the next listing anyway
                log.info("a batch delete of extras failed (%s)", error)
            await self.serial(self.journal.extras_sent, chunk)
        return len(ids)

    async def _learn(self, lateness: float) -> None:
        """A lead was listed `lateness` s after its row's answer, after a listing had found it
        missing: from now on rows are looked up that long after their answer."""
        if lateness > self.lateness_s:
            self.lateness_s = lateness
            await self.serial(self.journal.set_meta, batch_lateness_s=lateness)  # for a resumed run
            log.warning("a lead was listed up to %.1f s after its request's answer, after a "
                        "listing had found it missing (a batch stored late, or a listing behind "
                        "writes); waiting %.1f s before looking rows up from now on",
                        lateness, self.settle_s)

    # -- at the end ---------------------------------------------------------------------------

    async def final_rounds(self, *, verify: bool) -> None:
        rounds = MAX_ROUNDS + (BATCH_ROUNDS if self.policy.uses_batches else 0)
        for round_ in range(1, rounds + 1):
            if not verify and not await self.serial(self.journal.unresolved_count):
                break
            if await self._worth_looking_early():
                self.say("verifying")
                rows = await self._look(verify=verify, due_before=time.time() - self.settle_s)
                if rows:
                    await self.resend(rows, rounds - round_)
                await self.refresh()
                if not await self.serial(self.journal.unresolved_count):
                    break  # every row listed (and, with verify, every lead checked)
            await self._wait_for_the_last_unknown()
            self.say("verifying" if verify else "looking up rows with unknown outcome")
            rows = await self._look(verify=verify)
            await self.refresh()
            if not rows and self.unverified_last is not None and round_ < rounds:
                # judged once a settle time old: look again then
                await self._wait_until(self.unverified_last, "new leads to be listed")
                continue
            if not rows or round_ == rounds:
                break
            self.say(f"re-sending {len(rows)} rows")
            await self.resend(rows, rounds - round_)
        await self._late_twins()
        await self.serial(self.journal.fail_unresolved)
        await self.refresh()

    async def _worth_looking_early(self) -> bool:
        """Batches await their listing, and their path stores (nearly) everything: one listing
        now may settle them all, instead of waiting out the settle time first."""
        stored = self.policy.persistence
        if not self.policy.uses_batches or (stored is not None and stored < EARLY_LOOK_ABOVE):
            return False
        last = await self.serial(self.journal.unknown_since, earliest=False)
        return last is not None and last + self.settle_s > time.time()

    async def _late_twins(self) -> None:
        """Until a send before a row's re-send would have been listed, look for the leads it
        would have created twice, and remove them."""
        for _ in range(LATE_CHECKS):
            last = await self.serial(self.journal.last_sent_twice)
            if last is None:
                return
            await self._wait_until(last, "leads stored or listed late")
            self.say("checking for leads created twice")
            await self._look(verify=False)
            if not self.deleting:  # nothing new, and the earlier deletes are confirmed
                return

    async def _wait_for_the_last_unknown(self) -> None:
        """Until the row whose answer was lost last is due (each row counts from its own loss)."""
        await self._wait_until(await self.serial(self.journal.unknown_since, earliest=False),
                               "requests in flight to settle")

    async def _wait_until(self, last: float | None, what: str) -> None:
        """Until a settle time after `last` (nothing to wait for: None)."""
        while last is not None and (left := last + self.settle_s - time.time()) > 0:
            self.say(f"waiting {left:.0f} s for {what}")
            await anyio.sleep(min(1.0, left))

    async def _list_client(self) -> None:
        """The client's leads into the snapshot, each with its values and the time its page
        came (a lead it shows was listed by then)."""
        await self.serial(self.journal.reset_snapshot)
        count = 0
        async for page in self.api.lead_pages(self.slug, fields=["email", *COMPARED]):
            await self.serial(self.journal.add_snapshot, listed(page.items, time.time()))
            count += len(page.items)
        self.client_size = count
        self._listed_at = time.monotonic()


def emails_and_ids(leads: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    """(lower-cased email, id) of listed leads that have an email."""
    pairs = []
    for lead in leads:
        lead_id = lead.get("id")
        email = str(lead.get("email") or "").strip().lower()
        if lead_id and email:
            pairs.append((email, str(lead_id)))
    return pairs
