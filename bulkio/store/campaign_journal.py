"""The campaign upload journal: one SQLite file per `bulkio campaign upload` job, every
source row and what became of it, and every upload request.

States of a row:
    pending    a record to upload, not sent yet (or proved not stored: sent again)
    sending    in an upload request: written *before* the request is sent, so a crash or a
               lost answer leaves it here, to be looked for in the campaign, never re-sent
               blindly
    uploaded   in the campaign (`remote_id`), from the upload's answer or found there
    rejected   not made a record (bulkio's reason: no identifier, a duplicate key...)
    failed     refused by the API, with its reason
    held       not sent: past this period's remaining allowance (--up-to-remaining)

States of a request (`batches`): sending, answered, refused, doubt (its answer was lost:
`lost_at`), resolved (looked up in the campaign).

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


class RowState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    UPLOADED = "uploaded"
    REJECTED = "rejected"
    FAILED = "failed"
    HELD = "held"


class CampaignJournal(JobDatabase):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS rows (
        n INTEGER PRIMARY KEY, rowno INTEGER NOT NULL, key TEXT UNIQUE, kind TEXT,
        record TEXT, raw TEXT, state TEXT NOT NULL, batch INTEGER, remote_id INTEGER,
        sends INTEGER NOT NULL DEFAULT 0, error TEXT);
    CREATE INDEX IF NOT EXISTS rows_state ON rows (state, n);
    CREATE TABLE IF NOT EXISTS batches (
        id INTEGER PRIMARY KEY, state TEXT NOT NULL, size INTEGER NOT NULL,
        journalled_at REAL NOT NULL, floor_id INTEGER NOT NULL, lost_at REAL, error TEXT);
    """

    # -- the source, read once ---------------------------------------------------------------

    def add_rows(self, rows: Iterable[tuple[int, str | None, str | None, dict[str, Any] | None,
                                            object, str | None]]) -> list[str]:
        """(rowno, key, kind, record, raw, error) in source order: a record to upload, or a
        rejected row (error set). A key already taken rejects its row; the reasons, by key."""
        duplicates: list[str] = []
        with transaction(self.db):
            for rowno, key, kind, record, raw, error in rows:
                raw_json = orjson.dumps(raw).decode()
                if error is None:
                    cursor = self.db.execute(
                        "INSERT OR IGNORE INTO rows (rowno, key, kind, record, raw, state) "
                        "VALUES (?, ?, ?, ?, ?, 'pending')",
                        (rowno, key, kind, orjson.dumps(record).decode(), raw_json))
                    if cursor.rowcount:
                        continue
                    first = self.db.execute("SELECT rowno FROM rows WHERE key = ?",
                                            (key,)).fetchone()[0]
                    error = f"its record id {key!r} is also row {first}'s: each must be unique"
                    duplicates.append(str(key))
                self.db.execute("INSERT INTO rows (rowno, raw, state, error) "
                                "VALUES (?, ?, 'rejected', ?)", (rowno, raw_json, error))
        return duplicates

    def clear_rows(self) -> None:
        """Forget a reading the last run did not finish (nothing is sent before it ends)."""
        with transaction(self.db):
            self.db.execute("DELETE FROM rows")
            self.db.execute("DELETE FROM batches")

    def hold_after(self, allowed: int, reason: str) -> int:
        """Keep the first `allowed` pending rows, in source order; hold back the rest."""
        with transaction(self.db):
            first = self.db.execute("SELECT n FROM rows WHERE state = 'pending' ORDER BY n "
                                    "LIMIT 1 OFFSET ?", (allowed,)).fetchone()
            if first is None:
                return 0
            return self.db.execute("UPDATE rows SET state = 'held', error = ? WHERE state = "
                                   "'pending' AND n >= ?", (reason, first[0])).rowcount

    # -- requests ----------------------------------------------------------------------------

    def take_batch(self, size: int) -> tuple[int, list[tuple[int, str, dict[str, Any]]]] | None:
        """The next pending rows, journalled as in a request about to be sent (durably, before
        it is): (batch id, [(n, key, record)]), or None when nothing is pending."""
        with transaction(self.db):
            rows = self.db.execute("SELECT n, key, record FROM rows WHERE state = 'pending' "
                                   "ORDER BY n LIMIT ?", (size,)).fetchall()
            if not rows:
                return None
            cursor = self.db.execute(
                "INSERT INTO batches (state, size, journalled_at, floor_id) VALUES "
                "('sending', ?, ?, ?)", (len(rows), time.time(), self.highest_id()))
            batch = int(cursor.lastrowid or 0)
            self.db.executemany("UPDATE rows SET state = 'sending', batch = ?, sends = sends + 1 "
                                "WHERE n = ?", [(batch, n) for n, _, _ in rows])
        return batch, [(n, key, orjson.loads(record)) for n, key, record in rows]

    def highest_id(self) -> int:
        """The newest record id known to be in the campaign before now: ours, or the
        campaign's newest when the job began."""
        ours = self.db.execute("SELECT max(remote_id) FROM rows").fetchone()[0]
        return max(int(ours or 0), int(self.meta().get("campaign_floor", 0)))

    def answered(self, batch: int, ids: list[int]) -> None:
        with transaction(self.db):
            ns = [n for (n,) in self.db.execute("SELECT n FROM rows WHERE batch = ? AND "
                                                "state = 'sending' ORDER BY n", (batch,))]
            self.db.executemany("UPDATE rows SET state = 'uploaded', remote_id = ?, error = NULL "
                                "WHERE n = ?", list(zip(ids, ns, strict=True)))
            self.db.execute("UPDATE batches SET state = 'answered' WHERE id = ?", (batch,))

    def refused(self, batch: int, failed: dict[int, str]) -> None:
        """The API refused the request (nothing stored): rows in `failed` (n -> reason) fail,
        the others are pending again."""
        with transaction(self.db):
            self.db.executemany("UPDATE rows SET state = 'failed', error = ? WHERE n = ?",
                                [(reason, n) for n, reason in failed.items()])
            self.db.execute("UPDATE rows SET state = 'pending' WHERE batch = ? AND "
                            "state = 'sending'", (batch,))
            self.db.execute("UPDATE batches SET state = 'refused', error = ? WHERE id = ?",
                            ("; ".join(sorted(set(failed.values())))[:500], batch))

    def unsent(self, batch: int) -> None:
        """A request that certainly never took effect (stopped before its answer could have
        been given: a 429, a refused connection): its rows are pending again."""
        with transaction(self.db):
            self.db.execute("UPDATE rows SET state = 'pending', sends = sends - 1 "
                            "WHERE batch = ? AND state = 'sending'", (batch,))
            self.db.execute("DELETE FROM batches WHERE id = ?", (batch,))

    def lost(self, batch: int, error: str, at: float | None = None) -> None:
        """Its answer was lost: the request may have been stored, until read back."""
        with transaction(self.db):
            self.db.execute("UPDATE batches SET state = 'doubt', lost_at = ?, error = ? "
                            "WHERE id = ?", (at or time.time(), error, batch))

    def orphans_in_doubt(self) -> int:
        """Requests left `sending` by a run that stopped before their answers (a crash):
        in doubt from now on (the server may still have been storing them a moment ago)."""
        with transaction(self.db):
            return self.db.execute(
                "UPDATE batches SET state = 'doubt', lost_at = ?, error = 'the run stopped "
                "before its answer' WHERE state = 'sending'", (time.time(),)).rowcount

    def in_doubt(self) -> list[tuple[int, float, int]]:
        """(batch, lost_at, floor_id) of every request whose answer was lost."""
        return self.db.execute("SELECT id, lost_at, floor_id FROM batches WHERE state = "
                               "'doubt' ORDER BY lost_at").fetchall()

    def doubt_rows(self, batches: list[int]) -> dict[str, int]:
        """key -> n of the rows of these requests."""
        marks = ",".join("?" * len(batches))
        return {key: n for key, n in self.db.execute(
            f"SELECT key, n FROM rows WHERE state = 'sending' AND batch IN ({marks})", batches)}

    def resolved(self, batches: list[int], found: dict[int, int]) -> None:
        """The read-back's verdict: rows found (n -> record id) are uploaded; the rest of
        these requests' rows were never stored and are pending again."""
        marks = ",".join("?" * len(batches))
        with transaction(self.db):
            self.db.executemany("UPDATE rows SET state = 'uploaded', remote_id = ?, error = NULL "
                                "WHERE n = ?", [(rid, n) for n, rid in found.items()])
            self.db.execute(f"UPDATE rows SET state = 'pending' WHERE state = 'sending' AND "
                            f"batch IN ({marks})", batches)
            self.db.execute(f"UPDATE batches SET state = 'resolved' WHERE id IN ({marks})",
                            batches)

    def ours_up_to(self, record_id: int) -> int:
        """How many of this job's records have ids up to `record_id`."""
        return int(self.db.execute("SELECT count(*) FROM rows WHERE remote_id <= ?",
                                   (record_id,)).fetchone()[0])

    def ours_between(self, floor: int, ceiling: int) -> list[int]:
        """This job's record ids strictly between the two."""
        return [i for (i,) in self.db.execute(
            "SELECT remote_id FROM rows WHERE remote_id > ? AND remote_id < ?",
            (floor, ceiling))]

    def first_id_sent_after(self, moment: float) -> int | None:
        """The lowest record id of this job's requests journalled after `moment` (created
        after any request that had settled by then), or None."""
        row = self.db.execute(
            "SELECT min(r.remote_id) FROM rows r JOIN batches b ON r.batch = b.id WHERE "
            "b.journalled_at > ? AND r.remote_id IS NOT NULL", (moment,)).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    # -- counts and the end ------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(RowState, 0)
        counts.update(dict(self.db.execute("SELECT state, count(*) FROM rows GROUP BY state")))
        return {str(state): n for state, n in counts.items()}

    def sums(self) -> dict[str, int]:
        """Rows read; records sent (every one in every request) and sent again; by kind."""
        sent, again, rows = self.db.execute(
            "SELECT coalesce(sum(sends), 0), coalesce(sum(max(sends - 1, 0)), 0), count(*) "
            "FROM rows").fetchone()
        kinds = dict(self.db.execute("SELECT kind, count(*) FROM rows WHERE kind IS NOT NULL "
                                     "GROUP BY kind"))
        return {"rows_read": rows, "sent": sent, "resent": again, "contacts": kinds.get("contact", 0),
                "orgs": kinds.get("org", 0), "leads": kinds.get("lead", 0)}

    def stored_any(self) -> bool:
        """Whether any of the job's records is, or may be, in the campaign."""
        return self.db.execute("SELECT 1 FROM rows WHERE state IN ('uploaded', 'sending') "
                               "LIMIT 1").fetchone() is not None

    def remaining_to_send(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM rows WHERE state IN ('pending', "
                                   "'sending')").fetchone()[0])

    def not_uploaded(self) -> Iterator[tuple[int, str, object]]:
        """(rowno, reason, raw) of rows rejected, failed or held, in source order."""
        for rowno, error, raw in self.db.execute(
                "SELECT rowno, error, raw FROM rows WHERE state IN ('rejected', 'failed', "
                "'held') ORDER BY n"):
            yield rowno, error, orjson.loads(raw)

    def uploaded(self) -> Iterator[tuple[str, int]]:
        """(key, record id) of this job's records in the campaign."""
        yield from self.db.execute("SELECT key, remote_id FROM rows WHERE state = 'uploaded' "
                                   "ORDER BY n")
