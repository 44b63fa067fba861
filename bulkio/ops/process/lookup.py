"""Triggers whose answer was lost: did the server start their runs? Looked up in the company's
recent runs, never guessed.

`GET /api/trigger-recent-runs` shows the newest 100 runs at most, each with what the API
documents of it: its lead, when it was created (the server's clock) and its `batchTag` (the
tag of the trigger that started it, `<kind>-process-<epoch>-<rand>`). The format of a run's
`taskIdentifier` is not documented, and is never parsed. A run is this job's kind when it is
one of our own runs (a trigger's answer named it), when its batch tag has this kind's prefix
(documented, and learned from our answered triggers), or when its task identifier is one seen
on our own runs of this kind; a run of another documented kind is someone else's business;
any other run cannot be classified.

While some trigger is in doubt, new triggers are admitted on credit: after each read of the
recent runs, only as many as can start RUNS_PER_READ runs (with those in flight, fewer than
the 100 a read shows), and the next read comes when they are spent. Consecutive reads then
overlap (each new read still holds a run of the one before), and form one unbroken view of
every run started since the first of them. The server's clock is placed against ours by our
own runs: a run starts before its trigger's answer comes back, so createdAt minus the
answer's time is at most the offset between the clocks. For a lead in doubt, sent at time s:

- a run of this kind for this lead, started from s on, is its trigger's: the lead is
  triggered, with those runs, and nothing is sent again;
- a run of this lead that cannot be classified, started from s on, might be it: the lead ends
  `unknown`, never sent again blindly;
- none, while the view has been unbroken from before s to past s + --settle (the server's own
  timeout: a request it has not run by then, it never will), means the trigger never ran: it
  is sent again. That takes the clocks placed (or a view of every run the company has, with no
  run of this lead in it): until then the lead waits, and ends `unknown` if they never are;
- otherwise (the view began after s, or broke while the lead was in doubt) nobody can tell:
  the lead ends `unknown`, sent again only with --retrigger-unknown.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import Enum
from typing import Any

import anyio

from ...errors import ApiError, AuthError, TransportError
from ...leadgenius.client import LeadGeniusClient
from ...leadgenius.processing import MAX_RECENT_RUNS
from ...store.process_journal import LeadState, ProcessJournal
from ...store.serial import Serial

log = logging.getLogger("bulkio.process")

CLOCK_MARGIN_S = 5.0  # how far the server's clock and ours may disagree, until measured
UNPLACED_GIVE_UP_S = 60.0  # past its settle time, a lead waits this long for the clocks
KEEP_ANSWERED = 5000  # our recent runs whose answer time is kept, to measure the offset
RUNS_PER_READ = 40  # runs new triggers may start between two reads while a lead is in doubt
MIN_INTERVAL_S = 0.25
SEEN_FOR_S = 600.0  # runs seen are kept this long (by the server's clock) ...
SEEN_AT_MOST = 20_000  # ... once this many leads have runs in memory
MAX_INTERVAL_S = 5.0


_TAG = re.compile(r"^(?P<prefix>.+)-\d+-[^-]*$")  # <prefix>-<epoch>-<rand>
_DOCUMENTED_TAG = re.compile(r"^[a-z]+-process$")  # a kind's documented prefix


class Kind(Enum):
    """What a run of the recent runs is to a job of one kind."""

    OURS = "this job's kind"
    OTHER = "another kind"
    UNCLEAR = "a kind bulkio cannot tell"


def tag_prefix(tag: str) -> str:
    """`enrich-process-1707654321-x8k2m1` -> `enrich-process`."""
    match = _TAG.match(tag)
    return match.group("prefix") if match else tag


def epoch(stamp: Any) -> float | None:
    """An ISO 8601 time (`2026-11-30T19:04:52.123Z`) as epoch seconds; None if unreadable."""
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class Lookup:
    """Resolves the leads in doubt of one job. `run` returns once none is left."""

    def __init__(self, api: LeadGeniusClient, journal: ProcessJournal, serial: Serial,
                 kind: str, settle_s: float,
                 on_found: Callable[[int, list[dict[str, Any]]], Awaitable[None]],
                 on_resend: Callable[[int], Awaitable[None]], runs_per_trigger: int = 1) -> None:
        self.api = api
        self.journal = journal
        self.serial = serial
        self.kind = kind
        self.settle_s = settle_s
        self.on_found = on_found
        self.on_resend = on_resend
        self.per_read = max(1, RUNS_PER_READ // max(1, runs_per_trigger))  # triggers
        self.credits: int | None = None  # triggers admitted until the next read (None: any)
        self.outstanding = 0  # triggers admitted whose answer has not come
        self._granted = anyio.Event()
        self._wanted = anyio.Event()
        self.unbroken_since: float | None = None  # server time the view reaches back to
        self.last_read: float | None = None  # when the latest unbroken read was sent (ours)
        self.previous: set[str] = set()
        self.interval_s = max(MIN_INTERVAL_S, min(settle_s / 3, MAX_INTERVAL_S))
        self.reads = 0
        self.found = self.resent = self.gave_up = 0
        self.answered: dict[str, float] = {}  # run id -> when its trigger's answer came (ours)
        # every run of this kind seen, by lead: a run seen by one read may have scrolled out
        # of view by the time its lead is decided (its doubt recorded after that read)
        self.seen: dict[str, dict[str, dict[str, Any]]] = {}
        self.offset: float | None = None  # the server's clock minus ours, at least
        # how finely the server stamps createdAt (undocumented): a run started in the very
        # instant of its trigger's send can read as before it by that much. A second until a
        # stamp with a fraction shows milliseconds.
        self.resolution = 1.0
        self.tags = {f"{kind}-process"}  # batch tag prefixes of this kind (documented, learned)
        self.tasks: set[str] = set()  # task identifiers seen on our own runs of this kind

    def note_answered(self, run_ids: list[str], answered_at: float,
                      batch_tag: str | None = None) -> None:
        """Runs whose trigger answered at `answered_at` (our clock): when they show in the
        recent runs, their createdAt (the server's clock) places the two clocks, and their
        task identifiers are this kind's. The answer's batch tag names this kind's runs."""
        if batch_tag:
            self.tags.add(tag_prefix(batch_tag))
        for run_id in run_ids:
            self.answered[run_id] = answered_at
        while len(self.answered) > KEEP_ANSWERED:
            del self.answered[next(iter(self.answered))]

    def earliest(self, sent_at: float) -> float:
        """The earliest server time a run of a trigger sent at `sent_at` can carry (its stamp
        rounded down to the server's resolution)."""
        if self.offset is None:
            return sent_at - CLOCK_MARGIN_S
        return sent_at + self.offset - self.resolution

    def _measure(self, runs: list[dict[str, Any]]) -> None:
        for run in runs:
            answered = self.answered.get(str(run.get("id")))
            created = epoch(run.get("createdAt"))
            if created is not None and created % 1:
                self.resolution = 0.001
            if answered is not None and created is not None:
                low = created - answered  # started before its answer: offset >= this
                self.offset = low if self.offset is None else max(self.offset, low)

    def doubted(self) -> None:
        """A trigger's answer was lost (or a stopped run left triggers in flight): no new
        trigger until the recent runs have been read."""
        if self.credits is None:
            self.credits = 0

    async def admit(self) -> None:
        """Wait until a new trigger may be sent (at once, while nothing is in doubt); `done`
        when its answer has come (or it failed)."""
        while self.credits is not None and self.credits <= 0:
            self._wanted.set()
            await self._granted.wait()
        if self.credits is not None:
            self.credits -= 1
        self.outstanding += 1

    def done(self) -> None:
        self.outstanding -= 1

    def _grant(self, doubts_left: bool) -> None:
        """After a read: as many new triggers as keep the runs that may start before the next
        read (theirs, and those of the triggers still unanswered, which may start after this
        read) within RUNS_PER_READ. (Admitted triggers still waiting to be sent once made
        two reads apart more than a read shows: one resume in a hundred, under load.)"""
        self.credits = max(0, self.per_read - self.outstanding) if doubts_left else None
        self._granted.set()
        self._granted = anyio.Event()

    async def run(self) -> None:
        """Read the recent runs until no lead is in doubt."""
        if not self.previous:  # our latest runs, from the journal: the clocks' offset
            for run_id, recorded in await self.serial(self.journal.latest_runs, KEEP_ANSWERED):
                self.answered.setdefault(run_id, recorded)
            for tag in await self.serial(self.journal.batch_tags, 100):
                self.tags.add(tag_prefix(tag))
        self.previous = set()  # a new view begins with the first read
        while await self.serial(self.journal.in_doubt):
            if not await self._read():
                await anyio.sleep(MIN_INTERVAL_S)
                continue
            doubts_left = bool(await self.serial(self.journal.in_doubt))
            self._grant(doubts_left)
            if doubts_left:
                self._wanted = anyio.Event()
                if self.credits:  # the next read once they are spent (or the interval)
                    with anyio.move_on_after(self.interval_s):
                        await self._wanted.wait()
                else:  # triggers unanswered hold every credit: their answers come first
                    await anyio.sleep(MIN_INTERVAL_S)
        self._grant(False)

    async def _read(self) -> bool:
        """One read of the recent runs, and what it decides; False if it failed."""
        sent = time.time()
        try:
            runs = await self.api.recent_runs(MAX_RECENT_RUNS)
        except AuthError:
            raise
        except (ApiError, TransportError) as error:
            # Nothing is lost yet: the next read shows whether the view broke (no overlap).
            log.info("reading the recent runs failed (%s); reading again", error)
            return False
        self.reads += 1
        ids = {str(r.get("id")) for r in runs}
        created = [t for t in (epoch(r.get("createdAt")) for r in runs) if t is not None]
        if len(runs) < MAX_RECENT_RUNS:
            self.unbroken_since = float("-inf")  # every run the company has is in view
        elif not (self.previous & ids) or self.unbroken_since is None:
            self.unbroken_since = min(created, default=sent)  # a new view begins here
            if self.previous:
                log.info("more runs started between two reads of the recent runs than one "
                         "read shows (someone else's?): the view starts again (%.2f s since "
                         "the last read, %d reads so far)", sent - (self.last_read or sent),
                         self.reads)
        self._measure(runs)
        self.previous, self.last_read = ids, sent
        # the doubts as they are now: one recorded during the read is decided on it too
        await self._decide(await self.serial(self.journal.in_doubt), runs)
        return True

    def _forget_old(self, runs: list[dict[str, Any]]) -> None:
        """Forget runs started long before the newest: a lead whose answer is lost now, or
        was lost while a read was under way, has its runs among the recent ones. (Not by the
        leads in doubt: a run seen before its lead's loss is recorded must stay known.)"""
        newest = max((epoch(r.get("createdAt")) or 0.0 for r in runs), default=0.0)
        horizon = newest - max(SEEN_FOR_S, 4 * self.settle_s)
        if len(self.seen) > SEEN_AT_MOST:
            for lead_id in [k for k, v in self.seen.items()
                            if all((epoch(r.get("createdAt")) or 0.0) < horizon
                                   for r in v.values())]:
                del self.seen[lead_id]

    def learn(self, runs: list[dict[str, Any]]) -> None:
        """What the server calls this kind's runs: the task identifiers of our own."""
        for run in runs:
            task = run.get("taskIdentifier")
            if str(run.get("id")) in self.answered and task:
                self.tasks.add(str(task))

    def kind_of(self, run: dict[str, Any]) -> Kind:
        """Whether a run is of this job's kind, by what is documented or learned of it."""
        if str(run.get("id")) in self.answered:
            return Kind.OURS
        tag = run.get("batchTag")
        if isinstance(tag, str) and tag:
            prefix = tag_prefix(tag)
            if prefix in self.tags:
                return Kind.OURS
            if _DOCUMENTED_TAG.match(prefix):
                return Kind.OTHER
        task = str(run.get("taskIdentifier") or "")
        return Kind.OURS if task and task in self.tasks else Kind.UNCLEAR

    async def _decide(self, doubts: list[tuple[int, str, float]],
                      runs: list[dict[str, Any]]) -> None:
        self.learn(runs)
        for run in runs:
            if self.kind_of(run) is not Kind.OTHER:
                self.seen.setdefault(str(run.get("leadId")), {})[str(run.get("id"))] = run
        self._forget_old(runs)
        for n, lead_id, sent_at in doubts:
            await self._decide_one(n, lead_id, sent_at)

    async def _decide_one(self, n: int, lead_id: str, sent_at: float) -> None:
        earliest = self.earliest(sent_at)
        mine = list(self.seen.get(lead_id, {}).values())
        after = [(r, self.kind_of(r)) for r in mine
                 if (epoch(r.get("createdAt")) or 0) >= earliest]
        theirs = sorted((r for r, k in after if k is Kind.OURS),
                        key=lambda r: str(r.get("createdAt")))
        if theirs:
            self.found += 1
            await self.on_found(n, theirs)  # oldest first, as the trigger listed them
            return
        if any(k is Kind.UNCLEAR for _, k in after):
            await self._give_up(n, lead_id, sent_at, "a run of this lead started after its "
                                "trigger was sent, and the server does not say of which kind")
            return
        complete = self.unbroken_since == float("-inf")  # every run the company has is in view
        if self.offset is None and (mine or not complete):
            # The clocks are not placed: a time in the server's clock cannot be compared with
            # the send (a run of its trigger may read as before it, the view as not reaching
            # back to it). Our own runs will place them; until then, wait.
            if self.last_read is not None and \
                    self.last_read >= sent_at + self.settle_s + UNPLACED_GIVE_UP_S:
                await self._give_up(n, lead_id, sent_at, "the server's clock could not be "
                                    "placed against ours (no run of ours was seen)")
            return
        if self.unbroken_since is None or self.unbroken_since > earliest:
            await self._give_up(n, lead_id, sent_at, "the recent runs no longer reach back to it")
            return
        if self.last_read is None or self.last_read < sent_at + self.settle_s:
            return  # the server may still start it: look again later
        self.resent += 1
        log.info("lead %s: no run started by its trigger %.0f s on; sending it again",
                 lead_id, self.settle_s)
        await self.on_resend(n)

    async def _give_up(self, n: int, lead_id: str, sent_at: float, why: str) -> None:
        self.gave_up += 1
        log.warning("lead %s: its trigger's answer was lost and %s; it ends unknown "
                    "(--retrigger-unknown sends it again)", lead_id, why)
        log.info("lead %s was sent at %.3f; the recent runs reach back to %s (the clocks' "
                 "offset: %s)", lead_id, sent_at,
                 "the start" if self.unbroken_since == float("-inf") else
                 f"{self.unbroken_since or 0.0:.3f}",
                 "unmeasured" if self.offset is None else f"{self.offset:.3f} s")
        await self.serial(self.journal.ended, n, LeadState.UNKNOWN,
                          f"the answer was lost and its runs could not be looked up: {why}")
