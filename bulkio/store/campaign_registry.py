"""What this machine uploaded into enrichment campaigns, beyond any one job: each record's id
and key, and whether it is finalized and downloaded yet. `campaign download --wait` waits for
these records; `campaign status` counts them; the service's webhook route finds a campaign's
records, and where they go, here. One SQLite file in the user's state directory, 0600.
"""

from __future__ import annotations

import secrets
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
    -- finalized records a webhook (or the service's sweep) announced: each kept once, then
    -- fetched into the campaign's file or client
    CREATE TABLE IF NOT EXISTS announced (
        campaign TEXT NOT NULL, record_id INTEGER NOT NULL, via TEXT NOT NULL,
        at REAL NOT NULL, fetched INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (campaign, record_id));
    CREATE INDEX IF NOT EXISTS announced_open ON announced (campaign) WHERE NOT fetched;
    CREATE TABLE IF NOT EXISTS service (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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


    # -- webhooks: `bulkio serve` and `campaign upload --webhook-url auto` ---------------------

    def set_service_url(self, url: str) -> None:
        """Where the running service receives webhooks (its --public-url)."""
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO service VALUES ('public_url', ?)", (url,))

    def service_url(self) -> str | None:
        row = self.db.execute("SELECT value FROM service WHERE key = 'public_url'").fetchone()
        return str(row[0]) if row else None

    def hook(self, base_url: str, slug: str, into_client: str | None) -> str:
        """The campaign's webhook token (made once, unguessable), and where its finalized
        records go: `into_client`, or the service's file of the campaign."""
        campaign = self.name(base_url, slug)
        with transaction(self.db):
            self.db.execute("INSERT OR IGNORE INTO campaigns (campaign, base_url, slug, "
                            "registered) VALUES (?, ?, ?, ?)", (campaign, base_url, slug,
                                                                time.time()))
            self.db.execute("UPDATE campaigns SET hook_token = coalesce(hook_token, ?), "
                            "into_client = coalesce(?, into_client) WHERE campaign = ?",
                            (secrets.token_urlsafe(24), into_client, campaign))
            return str(self.db.execute("SELECT hook_token FROM campaigns WHERE campaign = ?",
                                       (campaign,)).fetchone()[0])

    def hooked(self, token: str | None = None) -> list[tuple[str, str, str | None]]:
        """(base_url, slug, into_client) of the campaigns with a webhook (that token's)."""
        if token is None:
            return self.db.execute("SELECT base_url, slug, into_client FROM campaigns WHERE "
                                   "hook_token IS NOT NULL ORDER BY registered").fetchall()
        return self.db.execute("SELECT base_url, slug, into_client FROM campaigns WHERE "
                               "hook_token = ?", (token,)).fetchall()

    def announce(self, base_url: str, slug: str, ids: Iterable[int], via: str) -> int:
        """Finalized records announced; how many were new (a delivery twice adds nothing)."""
        campaign, now = self.name(base_url, slug), time.time()
        with transaction(self.db):
            before = self.db.total_changes
            self.db.executemany("INSERT OR IGNORE INTO announced (campaign, record_id, via, at) "
                                "VALUES (?, ?, ?, ?)", [(campaign, i, via, now) for i in ids])
            return self.db.total_changes - before

    def unannounced(self, base_url: str, slug: str) -> list[int]:
        """This machine's records of the campaign neither finalized nor announced yet."""
        return [i for (i,) in self.db.execute(
            "SELECT record_id FROM records r WHERE campaign = ? AND NOT finalized AND NOT "
            "EXISTS (SELECT 1 FROM announced a WHERE a.campaign = r.campaign AND a.record_id "
            "= r.record_id) ORDER BY record_id", (self.name(base_url, slug),))]

    def to_fetch(self, base_url: str, slug: str, limit: int) -> list[int]:
        return [i for (i,) in self.db.execute(
            "SELECT record_id FROM announced WHERE campaign = ? AND NOT fetched ORDER BY "
            "record_id LIMIT ?", (self.name(base_url, slug), limit))]

    def fetched(self, base_url: str, slug: str, ids: Iterable[int]) -> None:
        campaign = self.name(base_url, slug)
        with transaction(self.db):
            self.db.executemany("UPDATE announced SET fetched = 1 WHERE campaign = ? AND "
                                "record_id = ?", [(campaign, i) for i in ids])
        self.finalized(base_url, slug, ids)


def open_registry(state: Path) -> CampaignRegistry:
    return CampaignRegistry(state / "campaigns" / "registry.db")
