"""The durable SQLite files of a job (import journal, export checkpoint, purge spool)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, Self

import orjson

from .files import private_dir, private_file


def connect(path: Path, schema: str, synchronous: str = "FULL") -> sqlite3.Connection:
    """Open (creating) a job database: WAL, fsync per commit (`synchronous`), autocommit
    outside transactions.

    Shared across threads on purpose: `bulkio.serial.Serial` makes sure calls never overlap.
    Private: the file is made 0600 first, and SQLite gives its WAL files the file's mode.
    """
    private_file(private_dir(path.parent) / path.name)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.executescript(f"PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};\n" + schema)
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class Releasable(Protocol):
    def release(self) -> None: ...


#: A job's `status` in its meta: work left to do (resumable), or none (a finished job).
RUNNING = "running"
FINISHED = "finished"

META_TABLE = "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"


def read_meta(db: sqlite3.Connection) -> dict[str, Any]:
    """The job's `meta` table: JSON values by key."""
    return {k: orjson.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}


def peek_meta(path: Path) -> dict[str, Any] | None:
    """A job file's meta, read without opening the job (None: no such file, or not a job's)."""
    if not path.exists():
        return None
    db = sqlite3.connect(path)
    try:
        return read_meta(db)
    except sqlite3.DatabaseError:
        return None
    finally:
        db.close()


def write_meta(db: sqlite3.Connection, values: dict[str, Any]) -> None:
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                   [(k, orjson.dumps(v).decode()) for k, v in values.items()])


class JobDatabase:
    """A job's SQLite file with a `meta` table; subclasses add their schema and methods."""

    SCHEMA = ""
    SYNCHRONOUS = "FULL"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path, META_TABLE + self.SCHEMA, synchronous=self.SYNCHRONOUS)
        self.lock: Releasable | None = None  # the job's lock, held while the file is open

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def meta(self) -> dict[str, Any]:
        return read_meta(self.db)

    def set_meta(self, **values: Any) -> None:
        write_meta(self.db, values)

    def finished(self) -> bool:
        """Whether the job ended with nothing left to do."""
        return bool(self.meta().get("status") == FINISHED)
