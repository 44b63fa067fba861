"""A sync's state (`bulkio sync hubspot:contacts`): what outlives its runs, and the journal of
the run under way.

- `meta`: the mark (epoch ms: every change before it is settled), the rules the state was
  made with, and the run under way (its number, when it began, how far it read).
- `contacts`: HubSpot contact id -> the lead this sync made (or matched) for it, the values
  last sent to that lead, and where the pair stands: `live`, `gone` (its lead was deleted in
  LeadGenius: not made again unless the contact changes again), `archived`, `merged`,
  `deleted` (its lead deleted by --archived delete), `rejected` (no lead: the contact cannot
  be one, e.g. no email).
- `changes`: the run's work, one row a contact, written before anything is sent for it:
  `kind` (changed, archived, merged), the contact as read, the action decided and its status
  (`todo`, then `done`, `rejected` or `failed`, with the reason). What a run leaves unsettled
  is `carried` into the next run's journal (decided again there), so a contact that failed
  is tried again even when HubSpot shows no new change for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from .db import JobDatabase, transaction, write_meta

_SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    hubspot_id TEXT PRIMARY KEY, lead_id TEXT, sent TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS contacts_lead ON contacts (lead_id);
CREATE TABLE IF NOT EXISTS changes (
    hubspot_id TEXT PRIMARY KEY, kind TEXT NOT NULL, raw TEXT, modified_ms INTEGER,
    survivor TEXT, action TEXT, status TEXT NOT NULL DEFAULT 'todo', detail TEXT,
    fields TEXT, n INTEGER, carried INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS changes_todo ON changes (action, n) WHERE status = 'todo';
"""

STATE_FILE = "state.db"


@dataclass(frozen=True)
class Known:
    """What the state knows of a contact."""

    lead_id: str | None
    sent: dict[str, str]
    state: str


@dataclass(frozen=True)
class Change:
    """One contact's row in the run's journal."""

    hubspot_id: str
    kind: str  # changed | archived | merged
    raw: dict[str, Any] | None  # the contact as read (changed), its record values
    survivor: str | None  # merged: the contact it was merged into
    action: str | None
    fields: dict[str, str] | None  # update: what is sent


class SyncState(JobDatabase):
    """The state directory's database. One process at a time (the caller holds its lock)."""

    SCHEMA = _SCHEMA

    def __init__(self, folder: Path) -> None:
        super().__init__(folder / STATE_FILE)
        self.folder = folder
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(changes)")}
        if "carried" not in columns:  # a state made before runs carried their failures
            self.db.execute("ALTER TABLE changes ADD COLUMN carried INTEGER NOT NULL DEFAULT 0")

    # -- contacts --------------------------------------------------------------------------

    def known(self, ids: Iterable[str]) -> dict[str, Known]:
        wanted = list(ids)
        found: dict[str, Known] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            for hid, lead, sent, state in self.db.execute(
                    "SELECT hubspot_id, lead_id, sent, state FROM contacts WHERE hubspot_id IN "
                    f"({','.join('?' * len(chunk))})", chunk):
                found[hid] = Known(lead, orjson.loads(sent), state)
        return found

    def remember(self, rows: Iterable[tuple[str, str | None, dict[str, str], str]]) -> None:
        """(hubspot id, lead id, values sent, state) for each contact, replacing what was."""
        with transaction(self.db):
            self.db.executemany(
                "INSERT OR REPLACE INTO contacts (hubspot_id, lead_id, sent, state) "
                "VALUES (?, ?, ?, ?)",
                [(h, lead, orjson.dumps(sent).decode(), state) for h, lead, sent, state in rows])

    # -- the run's journal -----------------------------------------------------------------

    def add_changes(self, rows: list[tuple[str, str, dict[str, Any] | None, int | None,
                                           str | None]], **meta: Any) -> None:
        """(hubspot id, kind, record values, lastmodifieddate, survivor) read, with the
        reader's position, in one transaction. A contact read again replaces its row unless
        it was acted on already."""
        n = int(self.db.execute("SELECT coalesce(max(n), 0) FROM changes").fetchone()[0])
        with transaction(self.db):
            self.db.executemany(
                "INSERT INTO changes (hubspot_id, kind, raw, modified_ms, survivor, n) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (hubspot_id) DO UPDATE SET "
                "kind = excluded.kind, raw = excluded.raw, modified_ms = excluded.modified_ms, "
                "survivor = excluded.survivor, action = NULL WHERE status = 'todo'",
                [(h, kind, None if raw is None else orjson.dumps(raw).decode(), ms, survivor,
                  n + i) for i, (h, kind, raw, ms, survivor) in enumerate(rows, 1)])
            write_meta(self.db, meta)

    def pending_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of these contacts already in the run's journal."""
        wanted = list(ids)
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found.update(h for (h,) in self.db.execute(
                f"SELECT hubspot_id FROM changes WHERE hubspot_id IN ({','.join('?' * len(chunk))})",
                chunk))
        return found

    def undecided(self, limit: int) -> list[Change]:
        return [self._change(row) for row in self.db.execute(
            "SELECT hubspot_id, kind, raw, survivor, action, fields FROM changes "
            "WHERE status = 'todo' AND action IS NULL ORDER BY n LIMIT ?", (limit,))]

    def decide(self, decisions: list[tuple[str, str, dict[str, str] | None]]) -> None:
        """(hubspot id, action, fields to send) for each change."""
        with transaction(self.db):
            self.db.executemany(
                "UPDATE changes SET action = ?, fields = ? WHERE hubspot_id = ?",
                [(a, None if f is None else orjson.dumps(f).decode(), h)
                 for h, a, f in decisions])

    def todo(self, action: str, limit: int, after: int = 0) -> list[tuple[int, Change]]:
        return [(row[0], self._change(row[1:])) for row in self.db.execute(
            "SELECT n, hubspot_id, kind, raw, survivor, action, fields FROM changes "
            "WHERE status = 'todo' AND action = ? AND n > ? ORDER BY n LIMIT ?",
            (action, after, limit))]

    def settle(self, outcomes: Iterable[tuple[str, str, str | None]]) -> None:
        """(hubspot id, status, reason) for changes acted on."""
        with transaction(self.db):
            self.db.executemany("UPDATE changes SET status = ?, detail = ? WHERE hubspot_id = ?",
                                [(s, d, h) for h, s, d in outcomes])

    def redo_as(self, ids: Iterable[str], action: str) -> None:
        with transaction(self.db):
            self.db.executemany("UPDATE changes SET action = ? WHERE hubspot_id = ?",
                                [(action, h) for h in ids])

    def change_counts(self) -> dict[tuple[str, str, str], int]:
        """(kind, action, status) -> changes."""
        return {(k, a or "", s): n for k, a, s, n in self.db.execute(
            "SELECT kind, action, status, count(*) FROM changes GROUP BY kind, action, status")}

    def unsettled(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM changes WHERE status IN ('todo', "
                                   "'failed')").fetchone()[0])

    def outcomes(self, statuses: tuple[str, ...]) -> Iterator[tuple[str, str, str, str | None,
                                                                   dict[str, Any] | None]]:
        """(hubspot id, kind, action, reason, record) of the changes in these statuses."""
        for hid, kind, action, detail, raw in self.db.execute(
                "SELECT hubspot_id, kind, action, detail, raw FROM changes WHERE status IN "
                f"({','.join('?' * len(statuses))}) ORDER BY n", statuses):
            yield hid, kind, action or "", detail, None if raw is None else orjson.loads(raw)

    def begin_run(self, *, drop: Iterable[str], **meta: Any) -> None:
        """In one transaction: a new run's journal (empty but for what the run before carried
        into it), the last run's own keys dropped, the new run's set."""
        with transaction(self.db):
            self.db.execute("DELETE FROM changes WHERE carried = 0")
            self.db.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k in drop])
            write_meta(self.db, meta)

    def carry(self, rows: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """(hubspot id, record values) of contacts a first run's import could not write:
        into the next run's journal, to be decided and sent again."""
        n = int(self.db.execute("SELECT coalesce(max(n), 0) FROM changes").fetchone()[0])
        with transaction(self.db):
            self.db.executemany(
                "INSERT OR REPLACE INTO changes (hubspot_id, kind, raw, n, carried) "
                "VALUES (?, 'changed', ?, ?, 1)",
                [(h, orjson.dumps(raw).decode(), n + i) for i, (h, raw) in enumerate(rows, 1)])

    def carried(self, action: str | None = None) -> int:
        """Changed contacts of this run carried from the run before (those still to do
        `action`, if given)."""
        if action is None:
            return int(self.db.execute("SELECT count(*) FROM changes WHERE carried = 1 AND "
                                       "kind = 'changed'").fetchone()[0])
        return int(self.db.execute(
            "SELECT count(*) FROM changes WHERE carried = 1 AND status = 'todo' AND action = ?",
            (action,)).fetchone()[0])

    def end_run(self, *, mark_ms: int | None, drop: Iterable[str], **meta: Any) -> None:
        """In one transaction: the unsettled changes carried into the next run, the others
        gone, the mark moved (unless None) and the run's own keys dropped."""
        with transaction(self.db):
            self.db.execute("UPDATE changes SET status = 'todo', action = NULL, fields = NULL, "
                            "detail = NULL, carried = 1 WHERE status IN ('todo', 'failed')")
            self.db.execute("DELETE FROM changes WHERE status != 'todo'")
            self.db.executemany("DELETE FROM meta WHERE key = ?", [(k,) for k in drop])
            write_meta(self.db, {**meta, **({} if mark_ms is None else {"mark_ms": mark_ms})})

    @staticmethod
    def _change(row: tuple[Any, ...]) -> Change:
        hid, kind, raw, survivor, action, fields = row
        return Change(hid, kind, None if raw is None else orjson.loads(raw), survivor, action,
                      None if fields is None else orjson.loads(fields))
