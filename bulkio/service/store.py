"""The service's own records, in DATA_DIR/service.db: previews (an upload kept for an hour)
and jobs (imports, exports, purges: what was asked, where their bulkio job lives, status,
counts). Durable (WAL, synchronous=FULL): a killed service finds its jobs again."""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import orjson

from ..db import JobDatabase, transaction

STATUSES = ("queued", "in_progress", "completed", "failed", "cancelled")
OPEN = ("queued", "in_progress")


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

    # -- jobs --------------------------------------------------------------------------------

    def create_job(self, kind: str, file_name: str | None, request: dict[str, Any],
                   counts: dict[str, Any]) -> str:
        job_id = f"job_{secrets.token_hex(8)}"
        with transaction(self.db):
            self.db.execute("INSERT INTO jobs (job_id, kind, status, file_name, created_at, "
                            "request, counts) VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                            (job_id, kind, file_name, time.time(),
                             orjson.dumps(request).decode(), orjson.dumps(counts).decode()))
        return job_id

    def set_status(self, job_id: str, status: str, message: str | None = None) -> None:
        assert status in STATUSES
        now = time.time()
        with transaction(self.db):
            self.db.execute(
                "UPDATE jobs SET status = ?, message = coalesce(?, message), "
                "started_at = CASE WHEN ? = 'in_progress' THEN coalesce(started_at, ?) "
                "ELSE started_at END, completed_at = CASE WHEN ? IN ('completed', 'failed', "
                "'cancelled') THEN ? ELSE completed_at END WHERE job_id = ?",
                (status, message, status, now, status, now, job_id))

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

    def unfinished(self) -> list[dict[str, Any]]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE status IN "
                               "('queued', 'in_progress') ORDER BY seq").fetchall()
        return [_job(r) for r in rows]


_COLUMNS = ("job_id, kind, status, file_name, created_at, started_at, completed_at, request, "
            "counts, message")


def _job(row: tuple[Any, ...]) -> dict[str, Any]:
    job_id, kind, status, file_name, created, started, completed, request, counts, message = row
    return {"job_id": job_id, "kind": kind, "status": status, "file_name": file_name,
            "created_at": created, "started_at": started, "completed_at": completed,
            "request": orjson.loads(request), "counts": orjson.loads(counts), "message": message}
