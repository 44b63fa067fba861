"""The export checkpoint: one SQLite file per job, committed after each chunk is on disk.

It holds, per output file (a *target*), the bytes the checkpoint vouches for; per cursor (a
*stream*: one kind of lead for one client, or for every client), the next page's token, and
the records and pages it has written; and the id of every record written, per target, so a
record the server repeats is dropped. A chunk is fsynced before the transaction that counts
it commits, so after a crash the file is cut back to the committed size and each stream goes
on from its committed token: nothing missing, nothing twice.

Every method is synchronous; the exporter calls them through `bulkio.serial.Serial`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .db import connect, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS targets (
    name TEXT PRIMARY KEY, bytes INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS streams (
    key TEXT PRIMARY KEY, target TEXT NOT NULL, kind TEXT NOT NULL, client TEXT,
    label TEXT NOT NULL, token TEXT, done INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0, pages INTEGER NOT NULL DEFAULT 0, error TEXT);
CREATE TABLE IF NOT EXISTS seen (target TEXT NOT NULL, id TEXT NOT NULL,
                                 PRIMARY KEY (target, id)) WITHOUT ROWID;
"""
_IN_CHUNK = 900  # ids per `IN (...)` lookup


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


@dataclass
class TargetState:
    name: str
    bytes: int = 0
    records: int = 0
    pages: int = 0
    duplicates: int = 0


@dataclass(slots=True)
class StreamStep:
    """One page of a stream as written: where its cursor is now and what it added."""

    key: str
    token: str | None
    records: int


class ExportCheckpoint:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path, _SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- the job ----------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        return {k: orjson.loads(v) for k, v in self.db.execute("SELECT key, value FROM meta")}

    def set_meta(self, **values: Any) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                            [(k, orjson.dumps(v).decode()) for k, v in values.items()])

    def start(self, fingerprint: dict[str, Any], targets: Sequence[str],
              streams: Sequence[Stream]) -> None:
        """Record a new job: what it exports, its output files and its cursors."""
        with transaction(self.db):
            self.set_meta(fingerprint=fingerprint, status="running", started_at=time.time())
            self.db.executemany("INSERT OR IGNORE INTO targets (name) VALUES (?)",
                                [(t,) for t in targets])
            self.db.executemany(
                "INSERT OR REPLACE INTO streams (key, target, kind, client, label) "
                "VALUES (?, ?, ?, ?, ?)",
                [(s.key, s.target, s.kind, s.client, s.label) for s in streams])

    def streams(self) -> list[Stream]:
        rows = self.db.execute("SELECT key, target, kind, client, label, token, done, records, "
                               "pages, error FROM streams ORDER BY rowid")
        return [Stream(k, t, kind, c, label, token, bool(done), records, pages, error)
                for k, t, kind, c, label, token, done, records, pages, error in rows]

    def targets(self) -> dict[str, TargetState]:
        rows = self.db.execute("SELECT name, bytes, records, pages, duplicates FROM targets")
        return {r[0]: TargetState(*r) for r in rows}

    # -- writing ----------------------------------------------------------------------------

    def already_written(self, target: str, ids: Sequence[str]) -> set[str]:
        """Which of `ids` this target's file already holds."""
        found: set[str] = set()
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start:start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT id FROM seen WHERE target = ? AND id IN ({marks})", (target, *chunk)))
        return found

    def commit(self, target: str, size: int, steps: Sequence[StreamStep], ids: Iterable[str],
               duplicates: int) -> None:
        """A chunk is on disk (fsynced): count it, move its streams' cursors, remember its ids."""
        with transaction(self.db):
            self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)",
                                ((target, i) for i in ids))
            self.db.executemany(
                "UPDATE streams SET token = ?, done = ?, records = records + ?, pages = pages + 1 "
                "WHERE key = ?", [(s.token, s.token is None, s.records, s.key) for s in steps])
            self.db.execute(
                "UPDATE targets SET bytes = ?, records = records + ?, pages = pages + ?, "
                "duplicates = duplicates + ? WHERE name = ?",
                (size, sum(s.records for s in steps), len(steps), duplicates, target))

    def restart_stream(self, key: str) -> None:
        """Page a stream again from its start (its cursor expired); `seen` drops the repeats."""
        self.db.execute("UPDATE streams SET token = NULL WHERE key = ?", (key,))

    def fail_stream(self, key: str, error: str | None) -> None:
        self.db.execute("UPDATE streams SET error = ? WHERE key = ?", (error, key))
