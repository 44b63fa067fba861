"""What this machine uploaded into enrichment campaigns, beyond any one job: each record's id
and key, and whether it is finalized and downloaded yet. `campaign download --wait` waits for
these records; `campaign status` counts them; the service's webhook route finds a campaign's
records, and where they go, here. One SQLite file in the user's state directory, 0600.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from .db import JobDatabase, transaction


class CampaignRegistry(JobDatabase):
    SYNCHRONOUS = "NORMAL"  # a record lost here is found again from the campaign itself
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS campaigns (
        campaign TEXT PRIMARY KEY, base_url TEXT NOT NULL, slug TEXT NOT NULL,
        into_client TEXT, hook_token TEXT UNIQUE, registered REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS records (
        campaign TEXT NOT NULL, record_id INTEGER NOT NULL, key TEXT NOT NULL,
        lead_id TEXT, finalized INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (campaign, record_id));
    CREATE INDEX IF NOT EXISTS records_open ON records (campaign, finalized);
    """

    @staticmethod
    def name(base_url: str, slug: str) -> str:
        return f"{base_url}|{slug}"

    def add(self, base_url: str, slug: str, records: Iterable[tuple[str, int]],
            *, from_client: bool) -> None:
        """(key, record id) of records uploaded; a Pro lead's id is the key `from_client`."""
        campaign = self.name(base_url, slug)
        with transaction(self.db):
            self.db.execute("INSERT OR IGNORE INTO campaigns (campaign, base_url, slug, "
                            "registered) VALUES (?, ?, ?, ?)", (campaign, base_url, slug,
                                                                time.time()))
            self.db.executemany(
                "INSERT OR IGNORE INTO records (campaign, record_id, key, lead_id) VALUES "
                "(?, ?, ?, ?)", [(campaign, rid, key, key if from_client else None)
                                 for key, rid in records])

    def unfinalized(self, base_url: str, slug: str) -> list[int]:
        return [rid for (rid,) in self.db.execute(
            "SELECT record_id FROM records WHERE campaign = ? AND NOT finalized ORDER BY "
            "record_id", (self.name(base_url, slug),))]

    def finalized(self, base_url: str, slug: str, ids: Iterable[int]) -> None:
        campaign = self.name(base_url, slug)
        with transaction(self.db):
            self.db.executemany("UPDATE records SET finalized = 1 WHERE campaign = ? AND "
                                "record_id = ?", [(campaign, i) for i in ids])

    def counts(self, base_url: str, slug: str) -> tuple[int, int]:
        """(records this machine uploaded, of them finalized)."""
        row = self.db.execute("SELECT count(*), coalesce(sum(finalized), 0) FROM records "
                              "WHERE campaign = ?", (self.name(base_url, slug),)).fetchone()
        return int(row[0]), int(row[1])

    def lead_ids(self, base_url: str, slug: str) -> dict[int, str]:
        """record id -> the Pro lead it was uploaded from."""
        return dict(self.db.execute("SELECT record_id, lead_id FROM records WHERE campaign = ? "
                                    "AND lead_id IS NOT NULL", (self.name(base_url, slug),)))


def open_registry(state: Path) -> CampaignRegistry:
    return CampaignRegistry(state / "campaigns" / "registry.db")
