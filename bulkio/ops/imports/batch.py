"""--strategy: one lead a request, or verified batches of up to 50; and, for `auto`, which.

The batch POST answers 201 and counts every lead as created whether it stored them or not,
so a batch's answer only moves its rows to "awaiting verification"; the client's own listing
says which were stored, and the missing ones are sent again.

The arithmetic behind `auto`. A batch request carries B leads, of which the batch path
stores a fraction p; the others are found missing and sent again, so each stored lead costs
1 / (B·p) batch requests, against 1 request sent alone. The verification listings take at
most a tenth of the quota (`LISTING_SHARE`, kept by `settle`), so batching costs fewer requests
while 1 / (B·p) < 0.9, that is while p > 1 / (0.9·B): 2.2% at B = 50. `auto` sends one batch,
sends single leads until that batch is verified, and batches while every verification
measures p above that; below it, it falls back to single POSTs (said once), and tries one
batch again after 2,000 rows, then 4,000, 8,000... in case the batch path has recovered.

Re-sends follow the same rule: as a batch while batches persist, singly otherwise; and in
the last rounds of an import, singly (a row must not wait for a path that may not store it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import anyio

log = logging.getLogger("bulkio.import")

STRATEGIES = ("single", "batch", "auto")
MAX_BATCH = 50  # the batch size the LeadGenius Pro API documents
MEASURE_AT_LEAST = 50  # rows verified before a measurement counts
FIRST_PROBE_AFTER = 2000  # single rows after a fall back before `auto` tries a batch again
SINGLE_ROUNDS = 2  # the last re-send rounds of an import send single leads
LISTING_SHARE = 0.1  # of the quota, at most, for the listings that verify (settle keeps it)


def threshold(batch_size: int) -> float:
    """The persistence below which batching costs more requests than single POSTs."""
    return 1.0 / ((1.0 - LISTING_SHARE) * batch_size)


@dataclass
class BatchPolicy:
    """Which way each row goes, from what verification has measured. One per import run."""

    strategy: str = "single"
    size: int = MAX_BATCH
    state: str = field(init=False)  # single, batch, probe (a batch to send), probing (sent)
    persistence: float | None = None  # the latest measurement
    fell_back: bool = False  # auto sends single leads because batches stored too little
    probes: int = 0  # batches auto has sent to find out whether batching pays
    _found: int = 0  # batch rows found / missing since the last measurement
    _missing: int = 0
    _singles: int = 0  # single rows since the fall back (auto's next probe)
    _probe_after: int = FIRST_PROBE_AFTER
    _notices: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {self.strategy!r}")
        if not 1 <= self.size <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} leads, not {self.size}")
        self.state = {"single": "single", "batch": "batch", "auto": "probe"}[self.strategy]

    @property
    def uses_batches(self) -> bool:
        return self.strategy != "single"

    def describe(self) -> str:
        """How new rows are being sent, for the progress line."""
        if self.state == "batch":
            return f"batches of {self.size}"
        if self.state in ("probe", "probing"):
            return "single leads while a first batch is verified"
        if self.fell_back:
            return f"single leads (batches stored {self.persistence:.0%})"
        return "single leads"

    # -- new rows --------------------------------------------------------------------------

    @property
    def batching(self) -> bool:
        return self.state in ("batch", "probe")

    def batch_next(self) -> bool:
        """Whether the next new row goes into a batch."""
        if self.state == "single" and self.fell_back:
            self._singles += 1
            if self._singles >= self._probe_after:  # the batch path may have recovered
                self.state, self._singles = "probe", 0
                self._probe_after *= 2
        return self.batching

    def batch_sent(self) -> None:
        if self.state == "probe":
            self.state, self.probes = "probing", self.probes + 1

    # -- what verification found -------------------------------------------------------------

    def probe_found(self, found: int) -> None:
        """Batch rows a listing found before their settle time had passed: if all of `auto`'s
        first batch is there, batching pays (missing rows have to wait; found ones do not)."""
        if self.state == "probing" and found >= self.size:
            self._decide(1.0)

    def measured(self, found: int, missing: int) -> str | None:
        """Batch rows of a settled cohort found stored / missing; a notice when `auto`
        changes its mind (said once per change)."""
        self._found += found
        self._missing += missing
        total = self._found + self._missing
        if total < min(MEASURE_AT_LEAST, self.size):
            return None
        persistence = self._found / total
        self._found = self._missing = 0
        return self._decide(persistence)

    def _decide(self, persistence: float) -> str | None:
        self.persistence = persistence
        if self.strategy != "auto":
            return None
        pays = self.persistence > threshold(self.size)
        if pays and self.state != "batch":
            self.state = "batch"
            if not self.fell_back:
                log.info("auto: the first batch was stored (%.0f%%): batches of %d from now on",
                         100 * self.persistence, self.size)
                return None
            self.fell_back = False
            return self._say(f"auto: the batch path stores {self.persistence:.0%} of its leads "
                             f"again; back to batches of {self.size}")
        if not pays and self.state != "single":
            self.state, self.fell_back, self._singles = "single", True, 0
            return self._say(
                f"auto: the batch path stored {self.persistence:.0%} of the leads it was sent "
                f"(batching pays above {threshold(self.size):.1%}); one lead a request from "
                "then on")
        return None

    def _say(self, notice: str) -> str:
        log.warning("%s", notice)
        if notice not in self._notices:
            self._notices.append(notice)
        return notice

    def notices(self) -> list[str]:
        return list(self._notices)

    # -- re-sends ----------------------------------------------------------------------------

    def resend_in_batches(self, rows: int, rounds_left: int | None) -> bool:
        """Whether `rows` rows found missing go again as batches. `rounds_left`: re-send
        rounds left at the end of the import (None while rows still stream)."""
        if not self.uses_batches or rows < 2:
            return False
        if rounds_left is not None and rounds_left <= SINGLE_ROUNDS:
            return False
        p = 1.0 if self.persistence is None else self.persistence
        # A batch of k rows costs 1 request and stores k·p of them: worth it while k·p > 1.
        return p > threshold(self.size) and min(rows, self.size) * p > 1.0


class Outstanding:
    """Requests handed to the senders and not yet answered. While `auto`'s first batch is
    checked, the importer keeps only a few single leads ahead of the senders, so that few are
    committed to single POSTs when the verdict is "batch"."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = anyio.Event()

    def add(self) -> None:
        self.count += 1

    def done(self) -> None:
        self.count -= 1
        self._changed.set()
        self._changed = anyio.Event()

    async def at_most(self, count: int) -> None:
        while self.count > count:
            await self._changed.wait()
