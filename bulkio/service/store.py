"""The service's own records, in DATA_DIR/service.db: previews (an upload kept for an hour)
and jobs (imports, exports, purges: what was asked, where their bulkio job lives, status,
counts). Durable (WAL, synchronous=FULL): a killed service finds its jobs again."""

from __future__ import annotations

import secrets
import time
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from ..store.db import JobDatabase, transaction


class JobStatus(StrEnum):
    """A service job's status, in the LeadVibe API's words."""

    QUEUED = "queued"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self in ENDED


OPEN = (JobStatus.QUEUED, JobStatus.IN_PROGRESS)
RESUMABLE = (JobStatus.FAILED, JobStatus.CANCELLED)
ENDED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class ServiceStore(JobDatabase):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS previews (
        file_id TEXT PRIMARY KEY, file_name TEXT NOT NULL, path TEXT NOT NULL,
        expires_at REAL NOT NULL, data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS jobs (
        seq INTEGER PRIMARY KEY, job_id TEXT UNIQUE NOT NULL, kind TEXT NOT NULL,
        status TEXT NOT NULL, file_name TEXT, created_at REAL NOT NULL, started_at REAL,
        completed_at REAL, request TEXT NOT NULL, counts TEXT NOT NULL DEFAULT '{}',
        message TEXT);
    CREATE TABLE IF NOT EXISTS files_deleted (job_id TEXT PRIMARY KEY, at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS sessions (digest TEXT PRIMARY KEY, created_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS mappings (
        name TEXT PRIMARY KEY, headers TEXT NOT NULL, fields TEXT NOT NULL, saved_at REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS mappings_by_headers ON mappings (headers);
    """

    # -- previews ----------------------------------------------------------------------------

    def add_preview(self, file_id: str, file_name: str, path: Path, expires_at: float,
                    data: dict[str, Any]) -> None:
        with transaction(self.db):
            self.db.execute("INSERT INTO previews VALUES (?, ?, ?, ?, ?)",
                            (file_id, file_name, str(path), expires_at,
                             orjson.dumps(data).decode()))

    def preview(self, file_id: str) -> dict[str, Any] | None:
        """A preview not yet expired (with its `path`), or None."""
        self.sweep()
        row = self.db.execute("SELECT file_name, path, data FROM previews WHERE file_id = ?",
                              (file_id,)).fetchone()
        if row is None:
            return None
        return {**orjson.loads(row[2]), "file_name": row[0], "path": row[1]}

    def sweep(self) -> None:
        """Forget expired previews, and delete their files."""
        now = time.time()
        expired = self.db.execute("SELECT file_id, path FROM previews WHERE expires_at < ?",
                                  (now,)).fetchall()
        for _, path in expired:
            Path(path).unlink(missing_ok=True)
        if expired:
            with transaction(self.db):
                self.db.executemany("DELETE FROM previews WHERE file_id = ?",
                                    [(f,) for f, _ in expired])

    # -- saved mappings: offered again for a file with the same columns ------------------------

    def save_mapping(self, name: str, headers: list[str], fields: dict[str, str]) -> None:
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO mappings VALUES (?, ?, ?, ?)",
                            (name, _columns_key(headers), orjson.dumps(fields).decode(),
                             time.time()))

    def mappings_for(self, headers: list[str]) -> list[dict[str, Any]]:
        """The saved mappings of a file with these columns (in any order), newest first."""
        return [{"name": name, "field_mappings": orjson.loads(fields)}
                for name, fields in self.db.execute(
                    "SELECT name, fields FROM mappings WHERE headers = ? ORDER BY saved_at DESC",
                    (_columns_key(headers),))]

    # -- the page's sessions (digests only) ----------------------------------------------------

    def add_session(self, digest: str, at: float) -> None:
        with transaction(self.db):
            self.db.execute("INSERT INTO sessions VALUES (?, ?)", (digest, at))

    def has_session(self, digest: str, since: float) -> bool:
        return self.db.execute("SELECT 1 FROM sessions WHERE digest = ? AND created_at >= ?",
                               (digest, since)).fetchone() is not None

    def drop_session(self, digest: str) -> None:
        with transaction(self.db):
            self.db.execute("DELETE FROM sessions WHERE digest = ?", (digest,))

    # -- jobs --------------------------------------------------------------------------------

    def create_job(self, kind: str, file_name: str | None, request: dict[str, Any],
                   counts: dict[str, Any]) -> str:
        job_id = f"job_{secrets.token_hex(8)}"
        with transaction(self.db):
            self.db.execute("INSERT INTO jobs (job_id, kind, status, file_name, created_at, "
                            "request, counts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (job_id, kind, JobStatus.QUEUED, file_name, time.time(),
                             orjson.dumps(request).decode(), orjson.dumps(counts).decode()))
        return job_id

    def set_status(self, job_id: str, status: JobStatus, message: str | None = None) -> None:
        now = time.time()
        started = now if status == JobStatus.IN_PROGRESS else None
        completed = now if status.ended else None
        with transaction(self.db):
            self.db.execute(
                "UPDATE jobs SET status = ?, message = coalesce(?, message), "
                "started_at = coalesce(started_at, ?), "
                "completed_at = coalesce(?, completed_at) WHERE job_id = ?",
                (status, message, started, completed, job_id))

    def reopen(self, job_id: str) -> None:
        """A stopped job queued again, to resume (its counts stay until it reports anew)."""
        with transaction(self.db):
            self.db.execute("UPDATE jobs SET status = ?, message = NULL, completed_at = NULL "
                            "WHERE job_id = ?", (JobStatus.QUEUED, job_id))

    def set_counts(self, job_id: str, counts: dict[str, Any]) -> None:
        with transaction(self.db):
            self.db.execute("UPDATE jobs SET counts = ? WHERE job_id = ?",
                            (orjson.dumps(counts).decode(), job_id))

    def job(self, job_id: str) -> dict[str, Any] | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE job_id = ?",
                              (job_id,)).fetchone()
        return _job(row) if row else None

    def jobs(self, page: int, limit: int, kind: str | None = None) -> tuple[list[dict[str, Any]], int]:
        where, args = ("WHERE kind = ?", [kind]) if kind else ("", [])
        total = int(self.db.execute(f"SELECT count(*) FROM jobs {where}", args).fetchone()[0])
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY seq DESC "
                               "LIMIT ? OFFSET ?", [*args, limit, (page - 1) * limit]).fetchall()
        return [_job(r) for r in rows], total

    def undo_of(self, job_id: str) -> dict[str, Any] | None:
        """The latest undo job of an import, if any."""
        row = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE kind = 'undo' AND "
                              "json_extract(request, '$.of') = ? ORDER BY seq DESC LIMIT 1",
                              (job_id,)).fetchone()
        return _job(row) if row else None

    def ended_before(self, cutoff: float) -> list[str]:
        """Jobs that ended before `cutoff` and still have their files."""
        return [job_id for (job_id,) in self.db.execute(
            "SELECT job_id FROM jobs WHERE completed_at < ? AND job_id NOT IN "
            "(SELECT job_id FROM files_deleted) ORDER BY seq", (cutoff,))]

    def mark_files_deleted(self, job_ids: list[str]) -> None:
        with transaction(self.db):
            self.db.executemany("INSERT OR IGNORE INTO files_deleted VALUES (?, ?)",
                                [(job_id, time.time()) for job_id in job_ids])

    def unfinished(self) -> list[dict[str, Any]]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE status IN (?, ?) "
                               "ORDER BY seq", OPEN).fetchall()
        return [_job(r) for r in rows]


def _columns_key(headers: list[str]) -> str:
    return orjson.dumps(sorted(headers)).decode()


_COLUMNS = ("job_id, kind, status, file_name, created_at, started_at, completed_at, request, "
            "counts, message, job_id IN (SELECT job_id FROM files_deleted)")


def _job(row: tuple[Any, ...]) -> dict[str, Any]:
    (job_id, kind, status, file_name, created, started, completed, request, counts, message,
     deleted) = row
    return {"job_id": job_id, "kind": kind, "status": JobStatus(status), "file_name": file_name,
            "created_at": created, "started_at": started, "completed_at": completed,
            "request": orjson.loads(request), "counts": orjson.loads(counts), "message": message,
            "files_deleted": bool(deleted)}
