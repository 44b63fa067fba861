"""What a source looked up once and may need again in the same job (a HubSpot company), kept
in the job directory (`cache.db`), not in memory: a million contacts' companies cost disk.

Its own SQLite file and its own worker thread, so the source can use it while the importer
uses the journal. Commits need no fsync: a cache lost in a crash is only read again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson

from .db import JobDatabase, transaction
from .serial import Serial


class SourceCache(JobDatabase):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS cache (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL,
                                      PRIMARY KEY (kind, id));
    """
    SYNCHRONOUS = "NORMAL"

    def cached(self, kind: str, ids: list[str]) -> dict[str, Any]:
        """The values cached under these ids (those not cached are absent)."""
        found: dict[str, Any] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update((i, orjson.loads(v)) for i, v in self.db.execute(
                f"SELECT id, value FROM cache WHERE kind = ? AND id IN "
                f"({','.join('?' * len(chunk))})", [kind, *chunk]))
        return found

    def cache(self, kind: str, values: Mapping[str, Any]) -> None:
        with transaction(self.db):
            self.db.executemany("INSERT OR REPLACE INTO cache VALUES (?, ?, ?)",
                                [(kind, i, orjson.dumps(v).decode()) for i, v in values.items()])


class CompanyCache:
    """A source's async view of the cache, for one kind of value (HubSpot companies)."""

    def __init__(self, job_dir: Path, kind: str = "hubspot-company") -> None:
        self.db = SourceCache(job_dir / "cache.db")
        self.kind = kind
        self.serial = Serial()

    async def cached(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = await self.serial(self.db.cached, self.kind, ids)
        return found

    async def cache(self, companies: Mapping[str, dict[str, Any]]) -> None:
        await self.serial(self.db.cache, self.kind, companies)

    def close(self) -> None:
        self.db.close()
