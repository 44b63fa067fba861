"""The export checkpoint: one SQLite file per job, committed after each chunk is on disk.

It holds, per output file (a *target*), the length of the file and of its id log that the
checkpoint vouches for; per cursor (a *stream*: one kind of lead for one client, or for every
client), the next page's token, what it has written, and the ids of its last page (to drop a
record the server repeats on the next one). A chunk and its ids are fsynced before the
transaction that counts them commits, so after a crash both files are cut back to the
committed lengths and each stream goes on from its committed token: nothing missing, nothing
twice.

Commits need not be durable themselves (synchronous=NORMAL): a commit lost to a power cut
leaves an older checkpoint, whose shorter lengths and earlier tokens are just as consistent.

Every method is synchronous; the exporter calls them through `bulkio.serial.Serial`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .db import RUNNING, JobDatabase, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS targets (
    name TEXT PRIMARY KEY, bytes INTEGER NOT NULL DEFAULT 0, id_bytes INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS streams (
    no INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, target TEXT NOT NULL, kind TEXT NOT NULL,
    client TEXT, label TEXT NOT NULL, token TEXT, done INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0, error TEXT,
    last_page BLOB);
"""


@dataclass
class Stream:
    """One cursor: `client` is a slug, a client's UUID (its misfiled leads), or None (all)."""

    key: str
    target: str
    kind: str
    client: str | None
    label: str
    token: str | None = None
    done: bool = False
    records: int = 0
    pages: int = 0
    error: str | None = None
    no: int = 0  # its number in the id log
    last_page: set[str] = field(default_factory=set)  # ids of its last page written


@dataclass
class TargetState:
    name: str
    bytes: int = 0
    id_bytes: int = 0
    records: int = 0
    pages: int = 0
    duplicates: int = 0


@dataclass(slots=True)
class StreamStep:
    """One page of a stream as written: where its cursor is now and what it added."""

    key: str
    token: str | None
    records: int
    page_ids: list[str]


def _ids_blob(ids: Iterable[str]) -> bytes:
    return "\n".join(ids).encode()


class ExportCheckpoint(JobDatabase):
    SCHEMA = _SCHEMA
    SYNCHRONOUS = "NORMAL"

    # -- the job ----------------------------------------------------------------------------

    def start(self, fingerprint: dict[str, Any], targets: Sequence[str],
              streams: Sequence[Stream]) -> None:
        """Record a new job: what it exports, its output files and its cursors."""
        with transaction(self.db):
            self.set_meta(fingerprint=fingerprint, status=RUNNING, started_at=time.time())
            self.db.executemany("INSERT OR IGNORE INTO targets (name) VALUES (?)",
                                [(t,) for t in targets])
            self.db.executemany(
                "INSERT OR IGNORE INTO streams (key, target, kind, client, label) "
                "VALUES (?, ?, ?, ?, ?)",
                [(s.key, s.target, s.kind, s.client, s.label) for s in streams])

    def streams(self) -> list[Stream]:
        rows = self.db.execute("SELECT key, target, kind, client, label, token, done, records, "
                               "pages, error, no, last_page FROM streams ORDER BY no")
        return [Stream(k, t, kind, c, label, token, bool(done), records, pages, error, no,
                       set(last.decode().split("\n")) if last else set())
                for k, t, kind, c, label, token, done, records, pages, error, no, last in rows]

    def targets(self) -> dict[str, TargetState]:
        rows = self.db.execute("SELECT name, bytes, id_bytes, records, pages, duplicates "
                               "FROM targets")
        return {r[0]: TargetState(*r) for r in rows}

    # -- writing ----------------------------------------------------------------------------

    def commit(self, target: str, size: int, id_size: int, steps: Sequence[StreamStep],
               duplicates: int) -> None:
        """A chunk and its ids are on disk (fsynced): count them and move the cursors."""
        with transaction(self.db):
            self.db.executemany(
                "UPDATE streams SET token = ?, done = ?, records = records + ?, pages = pages + 1,"
                " last_page = ? WHERE key = ?",
                [(s.token, s.token is None, s.records,
                  _ids_blob(s.page_ids) if s.token is not None else None, s.key) for s in steps])
            self.db.execute(
                "UPDATE targets SET bytes = ?, id_bytes = ?, records = records + ?, "
                "pages = pages + ?, duplicates = duplicates + ? WHERE name = ?",
                (size, id_size, sum(s.records for s in steps), len(steps), duplicates, target))

    def fail_stream(self, key: str, error: str | None) -> None:
        self.db.execute("UPDATE streams SET error = ? WHERE key = ?", (error, key))
