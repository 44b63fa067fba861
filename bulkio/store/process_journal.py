"""The processing journal: one SQLite file per `bulkio process` job, the state of every
selected lead and of every run its trigger started.

States of a lead:
    pending      selected, not yet sent
    attempted    about to be triggered: written *before* the request is sent, so a crash or a
                 lost answer leaves it here. `unknown_at` set: its answer was lost (or it was
                 in flight when a run stopped); it is looked up in the company's recent runs,
                 never re-sent blindly
    triggered    the server started at least one run for it (`runs`)
    skipped      nothing to run: the server skipped every service, or bulkio saw before
                 sending that every target field already has a value (no --overwrite)
    not_found    the lead no longer exists (404)
    rejected     refused by the API (another 4xx), with its reason
    unknown      its trigger may or may not have happened and its runs could not be found:
                 re-sent only with --retrigger-unknown

Every method runs on one worker thread at a time (`bulkio.serial.Serial`); each change is a
durable transaction (WAL, synchronous=FULL), so it survives `kill -9`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

import orjson

from .db import JobDatabase, transaction


class LeadState(StrEnum):
    """Where a selected lead stands. ATTEMPTED: its trigger sent, the answer not known yet."""

    PENDING = "pending"
    ATTEMPTED = "attempted"
    TRIGGERED = "triggered"
    SKIPPED = "skipped"
    NOT_FOUND = "not_found"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


NEVER = 1e18  # the next_poll of a run no longer tracked (final, or past --wait-timeout)


class ProcessJournal(JobDatabase):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS leads (
        n INTEGER PRIMARY KEY, lead_id TEXT UNIQUE NOT NULL, state TEXT NOT NULL,
        sent_at REAL, unknown_at REAL, sends INTEGER NOT NULL DEFAULT 0,
        triggered TEXT, skipped TEXT, error TEXT, batch_tag TEXT);
    CREATE INDEX IF NOT EXISTS leads_open ON leads (state)
        WHERE state IN ('pending', 'attempted');
    CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, n INTEGER NOT NULL, task TEXT, status TEXT NOT NULL,
        error TEXT, created REAL NOT NULL, polls INTEGER NOT NULL DEFAULT 0,
        next_poll REAL NOT NULL, took REAL);
    CREATE INDEX IF NOT EXISTS runs_open ON runs (next_poll)
        WHERE status NOT IN ('COMPLETED', 'FAILED', 'CANCELED');
    """

    # -- selection ---------------------------------------------------------------------------

    def add_selected(self, leads: Iterable[tuple[str, str, str | None]]) -> None:
        """Selected leads, in order: (lead id, pending, or skipped / not_found without a
        request, and why). A lead listed twice is kept once."""
        with transaction(self.db):
            self.db.executemany(
                "INSERT OR IGNORE INTO leads (lead_id, state, error) VALUES (?, ?, ?)", leads)

    def pending(self, after: int, limit: int) -> list[tuple[int, str]]:
        return self.db.execute("SELECT n, lead_id FROM leads WHERE state = 'pending' AND n > ? "
                               "ORDER BY n LIMIT ?", (after, limit)).fetchall()

    def pending_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM leads WHERE state = 'pending'")
                   .fetchone()[0])

    # -- triggers ----------------------------------------------------------------------------

    def attempt(self, n: int) -> None:
        """Journalled before the trigger is sent (durably: a crash after this line and
        before the answer leaves the lead `attempted`, to be looked up, never re-sent)."""
        with transaction(self.db):
            self.db.execute("UPDATE leads SET state = 'attempted', sent_at = ?, unknown_at = NULL, "
                            "sends = sends + 1 WHERE n = ?", (time.time(), n))

    def triggered(self, n: int, runs: list[tuple[str, str | None]], triggered: list[Any],
                  skipped: list[Any], batch_tag: str | None, first_poll: float) -> None:
        """The trigger's answer (or its runs found in the recent runs): runs to track."""
        state = "triggered" if runs else "skipped"
        now = time.time()
        with transaction(self.db):
            self.db.execute("UPDATE leads SET state = ?, triggered = ?, skipped = ?, batch_tag = ?, "
                            "unknown_at = NULL, error = NULL WHERE n = ?",
                            (state, orjson.dumps(triggered).decode(),
                             orjson.dumps(skipped).decode(), batch_tag, n))
            self.db.executemany(
                "INSERT OR IGNORE INTO runs (id, n, task, status, created, next_poll) "
                "VALUES (?, ?, ?, 'QUEUED', ?, ?)",
                [(run_id, n, task, now, now + first_poll) for run_id, task in runs])

    def ended(self, n: int, state: str, error: str | None) -> None:
        """A final state without runs: not_found, rejected, unknown, skipped."""
        with transaction(self.db):
            self.db.execute("UPDATE leads SET state = ?, error = ?, unknown_at = NULL WHERE n = ?",
                            (state, error, n))

    def lost(self, n: int, error: str) -> None:
        """Its answer was lost: look it up in the recent runs from now on."""
        with transaction(self.db):
            self.db.execute("UPDATE leads SET unknown_at = ?, error = ? WHERE n = ?",
                            (time.time(), error, n))

    def unsent(self, n: int) -> None:
        """Proved not to have reached the server (or not to have been applied): send it
        again, as if never sent."""
        with transaction(self.db):
            self.db.execute("UPDATE leads SET state = 'pending', unknown_at = NULL WHERE n = ?",
                            (n,))

    def in_doubt(self) -> list[tuple[int, str, float]]:
        """Leads whose trigger may or may not have happened: (n, lead id, sent at)."""
        return self.db.execute("SELECT n, lead_id, sent_at FROM leads WHERE state = 'attempted' "
                               "AND unknown_at IS NOT NULL ORDER BY n").fetchall()

    def in_flight_to_doubt(self) -> int:
        """At the start of a resumed run: leads a stopped run left in flight are in doubt."""
        with transaction(self.db):
            return self.db.execute("UPDATE leads SET unknown_at = coalesce(sent_at, 0), "
                                   "error = 'in flight when the run stopped' "
                                   "WHERE state = 'attempted' AND unknown_at IS NULL").rowcount

    def latest_runs(self, limit: int) -> list[tuple[str, float]]:
        """Our latest runs and when their trigger's answer was recorded: (run id, time)."""
        return self.db.execute("SELECT id, created FROM runs ORDER BY rowid DESC LIMIT ?",
                               (limit,)).fetchall()

    def batch_tags(self, limit: int) -> list[str]:
        """The batch tags of our latest answered triggers (what the server tags them with)."""
        return [tag for (tag,) in self.db.execute(
            "SELECT batch_tag FROM leads WHERE batch_tag IS NOT NULL ORDER BY n DESC LIMIT ?",
            (limit,))]

    def retrigger_unknown(self) -> int:
        with transaction(self.db):
            return self.db.execute("UPDATE leads SET state = 'pending', error = NULL "
                                   "WHERE state = 'unknown'").rowcount

    # -- runs --------------------------------------------------------------------------------

    def due_runs(self, now: float, limit: int) -> list[tuple[str, float, int]]:
        """Open runs whose next poll is due: (run id, created, polls so far)."""
        return self.db.execute(
            "SELECT id, created, polls FROM runs WHERE status NOT IN ('COMPLETED', 'FAILED', "
            "'CANCELED') AND next_poll <= ? ORDER BY next_poll LIMIT ?", (now, limit)).fetchall()

    def reschedule_unpolled(self, first_poll: float) -> None:
        """Runs not yet polled: first polled `first_poll` after their start (once learned)."""
        with transaction(self.db):
            self.db.execute("UPDATE runs SET next_poll = created + ? WHERE polls = 0 AND status "
                            "NOT IN ('COMPLETED', 'FAILED', 'CANCELED') AND next_poll < ?",
                            (first_poll, NEVER))

    def poll_open_now(self) -> None:
        """`bulkio process status`: every run not final is due now, tracked or not."""
        with transaction(self.db):
            self.db.execute("UPDATE runs SET next_poll = ? WHERE status NOT IN "
                            "('COMPLETED', 'FAILED', 'CANCELED')", (time.time(),))

    def next_poll(self) -> float | None:
        row = self.db.execute("SELECT min(next_poll) FROM runs WHERE status NOT IN "
                              "('COMPLETED', 'FAILED', 'CANCELED') AND next_poll < ?",
                              (NEVER,)).fetchone()
        return None if row[0] is None else float(row[0])

    def polled(self, run_id: str, status: str | None, error: str | None, next_poll: float,
               took: float | None) -> None:
        """A poll's outcome (status None: unchanged, the poll failed)."""
        with transaction(self.db):
            self.db.execute("UPDATE runs SET status = coalesce(?, status), error = ?, "
                            "next_poll = ?, took = ?, polls = polls + 1 WHERE id = ?",
                            (status, error, next_poll, took, run_id))

    def durations(self, limit: int = 200) -> list[float]:
        """How long the latest finished runs took (from their trigger to their end)."""
        return [float(t) for (t,) in self.db.execute(
            "SELECT took FROM runs WHERE took IS NOT NULL ORDER BY rowid DESC LIMIT ?", (limit,))]

    # -- figures -----------------------------------------------------------------------------

    def lead_counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(LeadState, 0)
        counts.update(self.db.execute("SELECT state, count(*) FROM leads GROUP BY state"))
        return counts

    def run_counts(self) -> dict[str, int]:
        rows = dict(self.db.execute("SELECT status, count(*) FROM runs GROUP BY status"))
        done = rows.get("COMPLETED", 0)
        failed = rows.get("FAILED", 0) + rows.get("CANCELED", 0)
        return {"runs": sum(rows.values()), "completed": done, "failed": failed,
                "running": sum(rows.values()) - done - failed,
                "polls": int(self.db.execute("SELECT coalesce(sum(polls), 0) FROM runs")
                             .fetchone()[0])}

    def results(self) -> Iterator[dict[str, Any]]:
        """One record per lead, in selection order, with its runs (for --out)."""
        runs: dict[int, list[dict[str, Any]]] = {}
        for n, run_id, task, status, error in self.db.execute(
                "SELECT n, id, task, status, error FROM runs ORDER BY rowid"):
            runs.setdefault(n, []).append({"runId": run_id, "task": task, "status": status,
                                           **({"error": error} if error else {})})
        for n, lead_id, state, triggered, skipped, error in self.db.execute(
                "SELECT n, lead_id, state, triggered, skipped, error FROM leads ORDER BY n"):
            mine = runs.get(n, [])
            yield {"leadId": lead_id, "state": "not_sent" if state in ("pending", "attempted")
                   and not mine else state,
                   "triggered": orjson.loads(triggered) if triggered else [],
                   "skipped": orjson.loads(skipped) if skipped else [],
                   "runIds": [r["runId"] for r in mine], "runs": mine,
                   **({"error": error} if error else {})}
