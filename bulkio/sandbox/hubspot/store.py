"""The HubSpot twin's data: CRM v3 contacts and companies, and the legacy v1 leads list.

Kept in the sandbox's SQLite database (tables `hs_*`), so a million contacts cost disk, not
memory. Shapes follow HubSpot's public v3 docs and the v1 documentation (docs/api-contract.md):

- a contact is `{"id", "properties", "createdAt", "updatedAt", "archived": false}`, with
  `associations.companies.results` of `{"id", "type"}` (`contact_to_company` marks the
  primary company, `contact_to_company_unlabeled` the others);
- the contact list pages by id, its `after` cursor opaque (base64 of the last id);
- a v1 lead is a flat object whose `guid` is its id and `insertedAt` its creation in ms.
"""

from __future__ import annotations

import base64
import binascii
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS hs_companies (id INTEGER PRIMARY KEY, props TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hs_contacts (
    id INTEGER PRIMARY KEY, props TEXT NOT NULL,
    companies TEXT NOT NULL,     -- JSON [[company id, association type], ...]
    created TEXT NOT NULL,
    created_ms INTEGER NOT NULL DEFAULT 0,
    modified_ms INTEGER NOT NULL DEFAULT 0,  -- lastmodifieddate
    indexed_ms INTEGER NOT NULL DEFAULT 0,   -- when search sees this version (its lag)
    archived_at TEXT                         -- archived (deleted, or merged into another)
);
CREATE TABLE IF NOT EXISTS hs_v1_leads (guid TEXT PRIMARY KEY, inserted_at INTEGER NOT NULL,
                                        data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS hs_v1_by_time ON hs_v1_leads (inserted_at, guid);
"""
ADDED_COLUMNS = (("created_ms", "INTEGER NOT NULL DEFAULT 0"),
                 ("modified_ms", "INTEGER NOT NULL DEFAULT 0"),
                 ("indexed_ms", "INTEGER NOT NULL DEFAULT 0"), ("archived_at", "TEXT"))
PRIMARY = "contact_to_company"
UNLABELED = "contact_to_company_unlabeled"


class BadCursor(Exception):
    """An `after` value this twin did not hand out."""


@dataclass
class ContactsPage:
    results: list[dict[str, Any]]
    after: str | None  # the next page's cursor; None on the last page


class HubSpotStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(SCHEMA)
        have = {row[1] for row in self.db.execute("PRAGMA table_info(hs_contacts)")}
        for column, kind in ADDED_COLUMNS:  # a --db file made by an older sandbox
            if column not in have:
                self.db.execute(f"ALTER TABLE hs_contacts ADD COLUMN {column} {kind}")
        self.db.execute("CREATE INDEX IF NOT EXISTS hs_by_modified ON hs_contacts "
                        "(modified_ms, id)")

    # -- writing (seeding, tests) ------------------------------------------------------------

    def add_companies(self, rows: Iterable[tuple[int, dict[str, Any]]]) -> None:
        self.db.executemany("INSERT INTO hs_companies (id, props) VALUES (?, ?)",
                            ((cid, orjson.dumps(props).decode()) for cid, props in rows))

    def add_contacts(self, rows: Iterable[tuple[int, dict[str, Any], list[tuple[int, str]], str]]
                     ) -> None:
        """(id, properties, [(company id, association type)], createdAt) each; last modified
        when created."""
        self.db.executemany(
            "INSERT INTO hs_contacts (id, props, companies, created, created_ms, modified_ms) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            ((cid, orjson.dumps(props).decode(), orjson.dumps(companies).decode(), created,
              iso_ms(created), iso_ms(created)) for cid, props, companies, created in rows))

    # -- a living portal: edits, archives and merges (tests, --hubspot-churn) -----------------

    def modify(self, cid: int, changes: dict[str, Any], now_ms: int, lag_ms: int = 0) -> None:
        """Set some properties (None empties one); lastmodifieddate now; search sees it
        `lag_ms` later."""
        props = orjson.loads(self.db.execute("SELECT props FROM hs_contacts WHERE id = ?",
                                             (cid,)).fetchone()[0])
        props.update(changes)
        self.db.execute("UPDATE hs_contacts SET props = ?, modified_ms = ?, indexed_ms = ? "
                        "WHERE id = ?", (orjson.dumps(props).decode(), now_ms, now_ms + lag_ms,
                                         cid))

    def archive(self, cid: int, now_ms: int) -> None:
        self.db.execute("UPDATE hs_contacts SET archived_at = ?, modified_ms = ? WHERE id = ?",
                        (ms_iso(now_ms), now_ms, cid))

    def merge(self, survivor: int, loser: int, now_ms: int, lag_ms: int = 0) -> None:
        """The loser archived; the survivor lists it in hs_merged_object_ids."""
        props = orjson.loads(self.db.execute("SELECT props FROM hs_contacts WHERE id = ?",
                                             (survivor,)).fetchone()[0])
        merged = [m for m in str(props.get("hs_merged_object_ids") or "").split(";") if m]
        self.modify(survivor, {"hs_merged_object_ids": ";".join([*merged, str(loser)])},
                    now_ms, lag_ms)
        self.archive(loser, now_ms)

    def stamp(self, ids: Sequence[int], now_ms: int) -> None:
        """One lastmodifieddate for many contacts (a bulk edit)."""
        self.db.executemany("UPDATE hs_contacts SET modified_ms = ? WHERE id = ?",
                            [(now_ms, i) for i in ids])

    def add_v1_leads(self, leads: Iterable[dict[str, Any]]) -> None:
        self.db.executemany(
            "INSERT INTO hs_v1_leads (guid, inserted_at, data) VALUES (?, ?, ?)",
            ((lead["guid"], lead["insertedAt"], orjson.dumps(lead).decode()) for lead in leads))

    def counts(self) -> dict[str, int]:
        return {table: int(self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in ("hs_contacts", "hs_companies", "hs_v1_leads")}

    # -- CRM v3 --------------------------------------------------------------------------------

    def contacts_page(self, after: str | None, limit: int, properties: Sequence[str],
                      with_companies: bool, archived: bool = False) -> ContactsPage:
        """A page of the live contacts (or, `archived`, of the archived ones), by id."""
        last = _decode_after(after) if after else 0
        rows = self.db.execute(
            f"SELECT {CONTACT_COLUMNS} FROM hs_contacts WHERE id > ? AND archived_at IS "
            f"{'NOT ' if archived else ''}NULL ORDER BY id LIMIT ?", (last, limit + 1)).fetchall()
        more = len(rows) > limit
        results = [shown_contact(row, properties, with_companies) for row in rows[:limit]]
        next_after = _encode_after(rows[limit - 1][0]) if more else None
        return ContactsPage(results, next_after)

    def company_links(self, ids: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
        """(each contact's companies as the v3 associations batch read shows them, the ids of
        contacts with none, or unknown)."""
        numeric = [int(i) for i in ids if i.isdigit()]
        marks = ",".join("?" * len(numeric))
        found = dict(self.db.execute(
            f"SELECT id, companies FROM hs_contacts WHERE id IN ({marks})", numeric)) \
            if numeric else {}
        results, missing = [], []
        for raw in ids:
            links = orjson.loads(found[int(raw)]) if raw.isdigit() and int(raw) in found else []
            if not links:
                missing.append(raw)
                continue
            results.append({"from": {"id": raw}, "to": [{"id": str(company), "type": kind}
                                                         for company, kind in links]})
        return results, missing

    def companies(self, ids: Sequence[str], properties: Sequence[str]
                  ) -> tuple[list[dict[str, Any]], list[str]]:
        """(found companies as HubSpot shows them, the ids not found)."""
        numeric = {i: int(i) for i in ids if i.isdigit()}
        found: dict[int, str] = {}
        if numeric:
            marks = ",".join("?" * len(numeric))
            found = dict(self.db.execute(
                f"SELECT id, props FROM hs_companies WHERE id IN ({marks})", list(numeric.values())))
        results, missing = [], []
        for raw in ids:
            if numeric.get(raw) not in found:
                missing.append(raw)
                continue
            stored = orjson.loads(found[numeric[raw]])
            shown = {name: stored.get(name) for name in properties}
            shown["hs_object_id"] = raw
            results.append({"id": raw, "properties": shown, "createdAt": "2025-01-01T00:00:00Z",
                            "updatedAt": "2025-01-01T00:00:00Z", "archived": False})
        return results, missing

    # -- legacy leads v1 ----------------------------------------------------------------------

    def v1_page(self, *, offset: int, max_: int, start_ms: int | None, stop_ms: int | None,
                descending: bool) -> list[dict[str, Any]]:
        where, args = [], []
        if start_ms is not None:
            where.append("inserted_at >= ?")
            args.append(start_ms)
        if stop_ms is not None:
            where.append("inserted_at <= ?")
            args.append(stop_ms)
        order = "DESC" if descending else "ASC"
        rows = self.db.execute(
            f"SELECT data FROM hs_v1_leads {'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY inserted_at {order}, guid {order} LIMIT ? OFFSET ?",
            [*args, max_, offset]).fetchall()
        return [orjson.loads(data) for (data,) in rows]

    def newest_v1(self) -> int:
        row = self.db.execute("SELECT max(inserted_at) FROM hs_v1_leads").fetchone()
        return int(row[0] or 0)


CONTACT_COLUMNS = "id, props, companies, created, modified_ms, archived_at"


def iso_ms(text: str) -> int:
    """Milliseconds since the epoch of an ISO time of HubSpot's shape (2024-01-31T12:00:00.000Z)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp() * 1000)


def ms_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{ms % 1000:03d}Z"


def shown_contact(row: Sequence[Any], properties: Sequence[str], with_companies: bool
                  ) -> dict[str, Any]:
    """A contact as HubSpot shows it, from a row of CONTACT_COLUMNS."""
    cid, props, companies, created, modified_ms, archived_at = row
    stored = orjson.loads(props)
    modified = ms_iso(modified_ms) if modified_ms else created
    # HubSpot answers every property asked for, null when the contact has no value.
    shown = {name: stored.get(name) for name in properties}
    shown.update(hs_object_id=str(cid), createdate=created, lastmodifieddate=modified)
    result: dict[str, Any] = {"id": str(cid), "properties": shown, "createdAt": created,
                              "updatedAt": modified, "archived": archived_at is not None}
    if archived_at is not None:
        result["archivedAt"] = archived_at
    links = orjson.loads(companies)
    if with_companies and links:
        result["associations"] = {"companies": {"results": [
            {"id": str(company), "type": kind} for company, kind in links]}}
    return result


def _encode_after(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{last_id}".encode()).decode()


def _decode_after(after: str) -> int:
    try:
        text = base64.urlsafe_b64decode(after.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(after) from None
    if not text.startswith("c") or not text[1:].isdigit():
        raise BadCursor(after)
    return int(text[1:])
