"""The purge spool: the lead ids one enumeration round found, on disk, and which were sent.

A purge alternates rounds of *enumerate* (every lead of the client, paged to the end, before
anything is deleted: a cursor may skip rows when rows before it disappear) and *delete* (the
spooled ids, 50 a request). A batch is marked sent once its answer (or its failure) is in;
what became of its ids is learnt from the next enumeration, not from the answer.

Commits need not be durable themselves (synchronous=NORMAL): a lost mark means a batch is sent
again, and deleting an id twice is harmless. Every method is synchronous; the purger calls
them through `bulkio.serial.Serial`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .db import JobDatabase, transaction, write_meta

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ids (n INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL,
                                sent INTEGER NOT NULL DEFAULT 0);
"""


class PurgeSpool(JobDatabase):
    SCHEMA = _SCHEMA
    SYNCHRONOUS = "NORMAL"

    def start_round(self, number: int) -> None:
        """Forget the previous round's ids; enumerate from the start."""
        with transaction(self.db):
            self.db.execute("DELETE FROM ids")
            write_meta(self.db, {"round": number, "phase": "enumerating", "token": None})

    def add_page(self, ids: Sequence[str], next_token: str | None) -> None:
        """One enumerated page, and where the enumeration goes on from (for a resume)."""
        with transaction(self.db):
            self.db.executemany("INSERT OR IGNORE INTO ids (id) VALUES (?)", [(i,) for i in ids])
            write_meta(self.db, {"token": next_token})

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM ids").fetchone()[0])

    def unsent(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM ids WHERE sent = 0").fetchone()[0])

    def batches(self, size: int, after: int, most: int) -> list[list[tuple[int, str]]]:
        """Up to `most` batches of `size` unsent ids, in spool order, after row `after`."""
        rows = self.db.execute("SELECT n, id FROM ids WHERE sent = 0 AND n > ? ORDER BY n LIMIT ?",
                               (after, size * most)).fetchall()
        return [rows[i:i + size] for i in range(0, len(rows), size)]

    def mark_sent(self, rows: Sequence[int]) -> None:
        marks = ",".join("?" * len(rows))
        self.db.execute(f"UPDATE ids SET sent = 1 WHERE n IN ({marks})", list(rows))
