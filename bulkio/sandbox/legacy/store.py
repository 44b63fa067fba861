"""The legacy twin's data, in the sandbox's SQLite database (tables `lg_*`): campaigns, their
records (each due to be finalized some seconds after its upload), the exclusion list and the
monthly allowance.

Enrichment is deterministic: a record's enriched values come from a hash of what identifies
it, so a test can tell what a finalized record holds. A record matching the exclusion list is
finalized incomplete, with nothing enriched."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import orjson

from .fields import CONTACT_FIELDS, ORG_FIELDS

SCHEMA = """
CREATE TABLE IF NOT EXISTS lg_campaigns (slug TEXT PRIMARY KEY, type TEXT NOT NULL,
                                         fields TEXT NOT NULL, webhook_url TEXT);
CREATE TABLE IF NOT EXISTS lg_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL, created REAL NOT NULL,
    due REAL NOT NULL, finalized REAL, status TEXT NOT NULL DEFAULT 'pending',
    data TEXT NOT NULL, shown REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS lg_by_slug ON lg_records (slug, id);
CREATE INDEX IF NOT EXISTS lg_pending ON lg_records (due) WHERE finalized IS NULL;
CREATE TABLE IF NOT EXISTS lg_exclusions (key TEXT PRIMARY KEY);
"""
PAGE = 100
ENRICHED = {"org_industry": ("Computer Software", "Financial Services", "Retail", "Logistics",
                             "Hospital & Health Care"),
            "org_num_employees": ("1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000"),
            "org_city": ("Boston", "Austin", "London", "Paris", "Berlin"),
            "org_country": ("United States", "United Kingdom", "France", "Germany"),
            "contact_seniority": ("C-Level", "VP", "Director", "Manager", "Senior",
                                  "Entry Level"),
            "contact_department": ("Sales", "Marketing", "Engineering", "Finance",
                                   "Operations")}


def _iso(moment: float | None) -> str | None:
    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))


def enriched(data: dict[str, Any]) -> dict[str, Any]:
    """The record with its empty enrichable fields filled, the same way every time."""
    seed = "|".join(str(data.get(k) or "") for k in ("org_company_name", "org_website",
                                                     "contact_email", "contact_last_name"))
    digest = hashlib.sha256(seed.encode()).digest()
    out = {name: data.get(name, "") for name in ORG_FIELDS + CONTACT_FIELDS}
    out.update({k: v for k, v in data.items() if k not in out})
    contact = any(str(data.get(k) or "") for k in CONTACT_FIELDS if k != "contact_record_id")
    for i, (name, values) in enumerate(ENRICHED.items()):
        if name.startswith("contact_") and not contact:
            continue
        if not str(out.get(name) or ""):
            out[name] = values[digest[i] % len(values)]
    if not out.get("org_num_employees_exact"):
        out["org_num_employees_exact"] = str(10 + digest[8] * 7)
    return out


@dataclass
class Finalized:
    slug: str
    ids: list[int]


class LegacyStore:
    def __init__(self, db: sqlite3.Connection, allowance: int) -> None:
        self.db = db
        self.db.executescript(SCHEMA)
        self.allowance = allowance

    # -- campaigns and uploads -----------------------------------------------------------------

    def campaign(self, slug: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT type, fields, webhook_url FROM lg_campaigns WHERE slug = ?",
                              (slug,)).fetchone()
        return None if row is None else {"type": row[0], "fields": orjson.loads(row[1]),
                                         "webhook_url": row[2]}

    def remaining(self, now: float) -> int:
        return max(0, self.allowance - self.period_counts(now)[0])

    def upload(self, slug: str, kind: str, fields: list[str], webhook: str | None,
               records: list[dict[str, Any]], rng: random.Random,
               enrich_s: tuple[float, float], lag_s: float = 0.0, gaps: int = 1) -> list[int]:
        """Store the records (creating the campaign); their ids, in order. They show in the
        campaign's pages `lag_s` later (the API says within 30 s). Ids ascend by 1 to `gaps`
        a record (ids shared with other tenants' records)."""
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("INSERT INTO lg_campaigns VALUES (?, ?, ?, ?) ON CONFLICT(slug) DO "
                            "UPDATE SET webhook_url = coalesce(excluded.webhook_url, webhook_url)",
                            (slug, kind, orjson.dumps(fields).decode(), webhook))
            ids = []
            for record in records:
                due = now + rng.uniform(*enrich_s)
                cursor = self.db.execute(
                    "INSERT INTO lg_records (id, slug, created, due, data, shown) VALUES "
                    "((SELECT coalesce(max(id), 0) FROM lg_records) + ?, ?, ?, ?, ?, ?)",
                    (rng.randint(1, max(1, gaps)), slug, now, due,
                     orjson.dumps(record).decode(), now + lag_s))
                ids.append(int(cursor.lastrowid or 0))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return ids

    def exclude(self, records: list[dict[str, Any]]) -> None:
        """An excluded contact by its email or LinkedIn URL; a company by its website or
        LinkedIn URL (a contact's company fields do not exclude the company)."""
        keys = [k for r in records for k in _keys(r, r.get("entity"))]
        self.db.executemany("INSERT OR IGNORE INTO lg_exclusions VALUES (?)", [(k,) for k in keys])

    # -- enrichment over time ------------------------------------------------------------------

    def finalize_due(self, now: float) -> list[Finalized]:
        """Finalize every record whose time has come; the ids finalized, by campaign."""
        due = self.db.execute("SELECT id, slug, data FROM lg_records WHERE finalized IS NULL "
                              "AND due <= ? ORDER BY id", (now,)).fetchall()
        if not due:
            return []
        by_slug: dict[str, list[int]] = {}
        updates = []
        for record_id, slug, data in due:
            record = orjson.loads(data)
            excluded = self._excluded(record)
            filled = record if excluded else enriched(record)
            status = "finalized_incomplete" if excluded or record_id % 10 == 0 else "finalized"
            updates.append((now, status, orjson.dumps(filled).decode(), record_id))
            by_slug.setdefault(slug, []).append(record_id)
        self.db.executemany("UPDATE lg_records SET finalized = ?, status = ?, data = ? "
                            "WHERE id = ?", updates)
        return [Finalized(slug, ids) for slug, ids in by_slug.items()]

    def _excluded(self, record: dict[str, Any]) -> bool:
        keys = _keys(record)
        if not keys:
            return False
        marks = ",".join("?" * len(keys))
        return self.db.execute(f"SELECT 1 FROM lg_exclusions WHERE key IN ({marks})",
                               keys).fetchone() is not None

    # -- reading -------------------------------------------------------------------------------

    def counts(self, slug: str) -> tuple[int, int]:
        """(records uploaded to the campaign, finalized)."""
        row = self.db.execute("SELECT count(*), count(finalized) FROM lg_records WHERE slug = ?",
                              (slug,)).fetchone()
        return int(row[0]), int(row[1])

    def page(self, slug: str, ids: list[int], number: int, now: float
             ) -> tuple[int, list[dict[str, Any]]]:
        """(how many match, that page of them) in creation order, of those shown by now."""
        where = "slug = ? AND shown <= ?"
        args: list[Any] = [slug, now, *ids]
        if ids:
            where += f" AND id IN ({','.join('?' * len(ids))})"
        total = int(self.db.execute(f"SELECT count(*) FROM lg_records WHERE {where}",
                                    args).fetchone()[0])
        rows = self.db.execute(f"SELECT id, created, finalized, status, data FROM lg_records "
                               f"WHERE {where} ORDER BY id LIMIT ? OFFSET ?",
                               [*args, PAGE, (number - 1) * PAGE]).fetchall()
        return total, [{"id": i, "created": _iso(c), "finalized": _iso(f), "status": s,
                        "data": orjson.loads(d)} for i, c, f, s, d in rows]

    def period_counts(self, now: float) -> tuple[int, int]:
        """(uploaded, enriched) this calendar month."""
        start = _month_start(now)
        row = self.db.execute("SELECT count(*), count(finalized) FROM lg_records "
                              "WHERE created >= ?", (start,)).fetchone()
        return int(row[0]), int(row[1])

    def usage(self, now: float) -> dict[str, Any]:
        total = self.db.execute("SELECT count(*), count(finalized) FROM lg_records").fetchone()
        uploaded, done = self.period_counts(now)
        start = _month_start(now)
        return {"total": {"uploaded": total[0], "enriched": total[1]},
                "current_period": {"uploaded": uploaded, "enriched": done,
                                   "remaining": max(0, self.allowance - uploaded),
                                   "end_date": _iso(_month_start(start + 32 * 86400)),
                                   "start_date": _iso(start)},
                "updated_at": _iso(now)}


def _month_start(now: float) -> float:
    t = time.gmtime(now)
    return float(time.mktime((t.tm_year, t.tm_mon, 1, 0, 0, 0, 0, 0, 0)) - time.timezone)


def _keys(record: dict[str, Any], entity: str | None = None) -> list[str]:
    """What the exclusion list matches a record by: emails, LinkedIn URLs, websites (of one
    entity's fields only, when given)."""
    names = {"contact": ("contact_email", "contact_linkedin_url"),
             "org": ("org_website", "org_linkedin_url")}
    out = []
    for name in names.get(entity or "", names["contact"] + names["org"]):
        value = str(record.get(name) or "").strip().lower()
        if value:
            out.append(f"{name}:{value}")
    return out
