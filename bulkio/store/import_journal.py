"""The import journal: one SQLite file per job holding the state of every input row.

States of a row:
    attempted          admitted for a create; written *before* the request can be sent, so a
                       crash, a lost answer or exhausted retries leave it here: its outcome is
                       unknown until the server's own list says whether the lead exists.
                       `unknown_at` is when its answer was lost (or, for a row in flight at a
                       crash, the journal's last write): it is *due* to be looked up once
                       the server's own timeout (--settle) has passed since then. A row
                       sent in a batch stays here after the batch's 201 (which is a claim,
                       not a fact) until a listing shows its lead: `unknown_at` is then the
                       time of that answer
    updating           admitted for a batch PUT of an existing lead (safe to repeat)
    created, updated, skipped_duplicate, rejected, failed     final

Every method is synchronous and runs on one worker thread at a time (`bulkio.serial.Serial`);
commits are batched (a batch of admitted rows, or the outcomes of ~a quarter second) and
durable (WAL, synchronous=FULL), so they survive `kill -9` and power cuts without ever being
the bottleneck. Emails live in an indexed table on disk, never in a Python dict.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from .db import JobDatabase, transaction, write_meta
from .listing_checks import ListingChecks


class RowState(StrEnum):
    """Where an input row stands. ATTEMPTED and UPDATING: sent, its outcome not known yet."""

    ATTEMPTED = "attempted"
    UPDATING = "updating"
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED_DUPLICATE = "skipped_duplicate"
    REJECTED = "rejected"
    FAILED = "failed"


FINAL = (RowState.CREATED, RowState.UPDATED, RowState.SKIPPED_DUPLICATE, RowState.REJECTED,
         RowState.FAILED)
UNRESOLVED = (RowState.ATTEMPTED, RowState.UPDATING)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rows (
    rowno INTEGER PRIMARY KEY, state TEXT NOT NULL, email TEXT, lead_id TEXT, error TEXT,
    raw TEXT, tries INTEGER NOT NULL DEFAULT 0,
    maybe_sent INTEGER NOT NULL DEFAULT 1,   -- 0 once a failure proved the request never applied
    resent INTEGER NOT NULL DEFAULT 0,       -- re-sent after verification found it missing
    unknown_at REAL,                         -- when its outcome became unknown (see above)
    key TEXT,                                -- the source's own id (a HubSpot contact id)
    batched INTEGER NOT NULL DEFAULT 0,      -- times sent in a batch POST
    sent_as TEXT,                            -- how it was last sent: batch or single
    batch_at REAL,                           -- when it was first sent in a batch
    sent_at REAL,                            -- when it was last sent
    resends INTEGER NOT NULL DEFAULT 0,      -- times taken to be sent again (any path)
    answered_at REAL,                        -- when its first send was answered (or lost)
    sig TEXT                                 -- the values it is recognised by (compared_values)
);
CREATE INDEX IF NOT EXISTS rows_open ON rows (state) WHERE state IN ('attempted', 'updating');
CREATE INDEX IF NOT EXISTS rows_bad ON rows (state) WHERE state IN ('rejected', 'failed');
CREATE INDEX IF NOT EXISTS rows_lead ON rows (lead_id) WHERE lead_id IS NOT NULL;
-- who holds an email: a row of this file (rowno) and/or a lead that was already there (pre)
CREATE TABLE IF NOT EXISTS emails (email TEXT PRIMARY KEY, rowno INTEGER, lead_id TEXT,
                                   pre INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS emails_pre ON emails (lead_id) WHERE pre = 1;
-- what the reader or the mapping decided for the user on a row (see sources.records.Note)
CREATE TABLE IF NOT EXISTS notes (rowno INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL,
                                  line INTEGER NOT NULL, PRIMARY KEY (rowno, kind, detail));
-- every lead the client held before this job sent anything: never deleted, never taken
CREATE TABLE IF NOT EXISTS pre (id TEXT PRIMARY KEY);
-- leads this job created twice for one row (a batch stored late): found, deleting, removed
CREATE TABLE IF NOT EXISTS extras (id TEXT PRIMARY KEY, rowno INTEGER NOT NULL,
                                   state TEXT NOT NULL DEFAULT 'found');
-- leads that carry a row's email but not its values, written by someone else: left alone
CREATE TABLE IF NOT EXISTS foreign_leads (id TEXT PRIMARY KEY, rowno INTEGER NOT NULL);
-- the client's leads as listed by the latest reconcile/verify pass: the values compared
-- (NULL: the listing did not carry the field), and when the page that held it came
CREATE TABLE IF NOT EXISTS server (email TEXT, id TEXT, first TEXT, last TEXT, company TEXT,
                                   seen_at REAL);
CREATE INDEX IF NOT EXISTS server_email ON server (email);
CREATE INDEX IF NOT EXISTS server_id ON server (id);
"""

_KEYED = "CREATE UNIQUE INDEX IF NOT EXISTS rows_key ON rows (key) WHERE key IS NOT NULL;"
_ADDED_COLUMNS = (("unknown_at", "REAL"), ("key", "TEXT"), ("batched", "INTEGER NOT NULL DEFAULT 0"),
                  ("sent_as", "TEXT"), ("batch_at", "REAL"), ("sent_at", "REAL"),
                  ("resends", "INTEGER NOT NULL DEFAULT 0"), ("answered_at", "REAL"),
                  ("sig", "TEXT"))



@dataclass(slots=True)
class Admission:
    """A row offered to the journal: rejected already (error) or wanting to be sent."""

    rowno: int
    email: str | None
    raw: str  # the record as JSON (CSV cells, or the NDJSON line)
    error: str | None = None
    notes: tuple[tuple[str, str], ...] = ()  # (kind, detail): padded, quotes, encoding, spare
    line: int = 0  # the physical line the row starts on, when known
    key: str | None = None  # the source's own id: a record seen again under it is a repeat
    sig: str | None = None  # the values its lead is recognised by (listing_checks.signature)
    action: str = ""  # set by admit(): create, update, skip, reject
    lead_id: str | None = None  # update: the existing lead


@dataclass(slots=True)
class Outcome:
    rowno: int
    state: str  # a final state, or attempted/updating when still unknown
    lead_id: str | None = None
    error: str | None = None
    maybe_sent: bool = True
    was: str = "attempted"  # the state the row was in while its request was out
    sent_as: str | None = "single"  # how it was sent (None: an update)
    awaiting: bool = False  # a batch's 201: an answer, but the listing decides


class ImportJournal(ListingChecks, JobDatabase):
    SCHEMA = _SCHEMA

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(rows)")}
        for column, kind in _ADDED_COLUMNS:
            if column not in columns:  # a journal from before the column
                self.db.execute(f"ALTER TABLE rows ADD COLUMN {column} {kind}")
        if "seen_at" not in {row[1] for row in self.db.execute("PRAGMA table_info(server)")}:
            self.db.executescript("DROP TABLE server;" + _SCHEMA)  # a snapshot: made again
        self.db.executescript(_KEYED)
        if "pre_complete" not in self.meta():  # a journal from before the table: what it knew
            self.db.execute("INSERT OR IGNORE INTO pre SELECT lead_id FROM emails "
                            "WHERE pre = 1 AND lead_id IS NOT NULL")

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with transaction(self.db):
            yield
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_write', ?)",
                            (str(time.time()),))

    # -- meta ------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        """The job's meta, with the time of the journal's last write (see `_tx`)."""
        values = super().meta()
        values.pop("last_write", None)
        return values | {"last_write": self.last_write()}

    def last_write(self) -> float:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'last_write'").fetchone()
        return float(row[0]) if row else 0.0

    def set_meta(self, **values: Any) -> None:
        with self._tx():
            write_meta(self.db, values)

    # -- the client's existing leads -------------------------------------------------------

    def add_existing(self, leads: list[tuple[str, str]]) -> None:
        """(email, lead id) already in the client before this import sends anything."""
        with self._tx():
            self.db.executemany(
                "INSERT INTO emails (email, lead_id, pre) VALUES (?, ?, 1) "
                "ON CONFLICT (email) DO NOTHING", leads)
            self.db.executemany("INSERT OR IGNORE INTO pre (id) VALUES (?)",
                                [(lead_id,) for _, lead_id in leads])

    def leads_before(self) -> int:
        """Leads (with an email) the client held before the job."""
        return int(self.db.execute("SELECT count(*) FROM pre").fetchone()[0])

    # -- admission -------------------------------------------------------------------------

    def admit(self, batch: list[Admission], position: Mapping[str, Any],
              on_duplicate: str) -> list[Admission]:
        """Decide and record a batch in one transaction, with the reader's checkpoint
        (`position`: a file's offset and line, a HubSpot cursor...).

        Sets each admission's `action`: reject, skip (a duplicate), create or update; or
        repeat, for a record whose source id was admitted before (a source that sends one
        record twice): a repeat is not a row.
        """
        with self._tx():
            seen = self._known_keys([a.key for a in batch if a.key is not None])
            holders = self._holders({a.email for a in batch if a.error is None and a.email})
            rows: list[tuple[Any, ...]] = []
            claims: list[tuple[int, str]] = []
            takeovers: list[tuple[int, str]] = []
            for a in batch:
                if a.key is not None and a.key in seen:
                    a.action = "repeat"
                    continue
                if a.key is not None:
                    seen.add(a.key)
                state, error, raw = self._decide(a, on_duplicate, holders)
                rows.append((a.rowno, state, a.email, a.lead_id, error, raw, a.key, a.sig))
                if a.action in ("create", "update") and a.email:
                    (takeovers if a.email in holders else claims).append((a.rowno, a.email))
                    holders[a.email] = (a.rowno, None)
            self.db.executemany("INSERT INTO emails (rowno, email) VALUES (?, ?)", claims)
            self.db.executemany("UPDATE emails SET rowno = ? WHERE email = ?", takeovers)
            self.db.executemany(
                "INSERT OR REPLACE INTO rows (rowno, state, email, lead_id, error, raw, key, sig) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany("INSERT OR IGNORE INTO notes VALUES (?, ?, ?, ?)",
                                [(a.rowno, kind, detail, a.line) for a in batch
                                 for kind, detail in a.notes if a.action != "repeat"])
            if batch:
                self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [
                    ("rowno", str(batch[-1].rowno)),
                    *((key, orjson.dumps(value).decode()) for key, value in position.items())])
        return batch

    def _known_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            found.update(k for (k,) in self.db.execute(
                f"SELECT key FROM rows WHERE key IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def _holders(self, emails: set[str]) -> dict[str, tuple[int | None, str | None]]:
        """Who already holds each of these emails: (rowno of this file, pre-existing lead)."""
        found: dict[str, tuple[int | None, str | None]] = {}
        pending = list(emails)
        for start in range(0, len(pending), 500):  # SQLite's limit on bound parameters
            chunk = pending[start:start + 500]
            found.update((email, (rowno, lead_id)) for email, rowno, lead_id in self.db.execute(
                f"SELECT email, rowno, lead_id FROM emails WHERE email IN ({','.join('?' * len(chunk))})",
                chunk))
        return found

    @staticmethod
    def _decide(a: Admission, on_duplicate: str,
                holders: dict[str, tuple[int | None, str | None]]) -> tuple[str, str | None, str | None]:
        if a.error is not None:
            a.action = "reject"
            return "rejected", a.error, a.raw
        hit = holders.get(a.email) if a.email else None
        if hit is None:
            a.action = "create"
            return "attempted", None, a.raw
        rowno, lead_id = hit
        if rowno is not None:
            a.action = "skip"
            return "skipped_duplicate", f"same email as row {rowno}", None
        if on_duplicate == "skip":  # already in the client
            a.action = "skip"
            return "skipped_duplicate", f"already in the client (lead {lead_id})", None
        if on_duplicate == "update":
            a.action, a.lead_id = "update", lead_id
            return "updating", None, a.raw
        a.action = "create"
        return "attempted", None, a.raw

    # -- outcomes --------------------------------------------------------------------------

    def record(self, outcomes: list[Outcome]) -> None:
        """Outcomes as they came; one still unknown is stamped with the time it became so."""
        now = time.time()
        with self._tx():
            self.db.executemany(
                "UPDATE rows SET state = ?, lead_id = coalesce(?, lead_id), error = ?, "
                "tries = tries + 1, maybe_sent = ?, unknown_at = ?, "
                "sent_as = coalesce(?, sent_as), answered_at = coalesce(answered_at, ?), "
                "sent_at = CASE WHEN ? = 'single' THEN ? ELSE sent_at END WHERE rowno = ?",
                [(o.state, o.lead_id, o.error, int(o.maybe_sent),
                  now if o.state in UNRESOLVED else None, o.sent_as, now, o.sent_as, now, o.rowno)
                 for o in outcomes])

    def mark_batched(self, rownos: list[int]) -> None:
        """Rows about to go out in one batch POST (durable before it is sent)."""
        now = time.time()
        with self._tx():
            self.db.executemany(
                "UPDATE rows SET batched = batched + 1, sent_as = 'batch', "
                "batch_at = coalesce(batch_at, ?), sent_at = ? WHERE rowno = ?",
                [(now, now, rowno) for rowno in rownos])

    def mark_unsent(self, rownos: list[int]) -> None:
        """Rows whose request never started (a graceful stop): due to be settled at once on
        resume (a listing, then sent), not a settle time after the stop. A row never sent at
        all is known not to be on the server."""
        with self._tx():
            self.db.executemany(
                "UPDATE rows SET unknown_at = 0, error = 'not sent: the run stopped before its "
                "request', maybe_sent = CASE WHEN tries = 0 THEN 0 ELSE maybe_sent END "
                "WHERE rowno = ? AND state IN ('attempted', 'updating')",
                [(rowno,) for rowno in rownos])

    def stamp_left_in_flight(self) -> int:
        """Rows a stopped run left in flight: their outcome became unknown when it stopped
        (its last write). How many."""
        with self._tx():
            return self.db.execute(
                "UPDATE rows SET unknown_at = (SELECT CAST(value AS REAL) FROM meta "
                "WHERE key = 'last_write') WHERE state IN ('attempted', 'updating') "
                "AND unknown_at IS NULL").rowcount

    def unknown_since(self, *, earliest: bool) -> float | None:
        """When the first (or the last) still-unknown outcome became unknown; None if none."""
        row = self.db.execute(
            f"SELECT {'min' if earliest else 'max'}(unknown_at) FROM rows "
            "WHERE state IN ('attempted', 'updating')").fetchone()
        return None if row[0] is None else float(row[0])

    # -- what is still open (ListingChecks settles it against the client's listing) ---------

    def unresolved_count(self) -> int:
        return int(self.db.execute(
            "SELECT count(*) FROM rows WHERE state IN ('attempted', 'updating')").fetchone()[0])

    # -- totals and rejects ----------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        totals: dict[str, int] = dict.fromkeys((*FINAL, *UNRESOLVED), 0)
        totals.update(self.db.execute("SELECT state, count(*) FROM rows GROUP BY state").fetchall())
        return totals

    def notes(self) -> list[tuple[str, str, int, int, int]]:
        """(kind, detail, rows, the first row, its line) of the notes, by kind and detail."""
        return self.db.execute(
            "SELECT kind, detail, count(*), min(rowno), min(line) FROM notes "
            "GROUP BY kind, detail ORDER BY kind, min(rowno)").fetchall()

    def rows_noted(self, kind: str) -> int:
        return int(self.db.execute("SELECT count(DISTINCT rowno) FROM notes WHERE kind = ?",
                                   (kind,)).fetchone()[0])

    def rejects(self) -> list[tuple[int, str, object]]:
        """(rowno, error, raw record) of rejected and failed rows, in input order."""
        return [(rowno, error or "", orjson.loads(raw) if raw else "")
                for rowno, error, raw in self.db.execute(
                    "SELECT rowno, error, raw FROM rows WHERE state IN ('rejected', 'failed') "
                    "ORDER BY rowno")]
