"""Undo an import: delete exactly the leads the import created, never another.

The ids come from the import's own journal (rows it recorded as created), less any lead the
client held before the import began and any lead someone else wrote; a row sent with no
answer yet (an import stopped midway) is the import's lead when the client lists one with its
email and its values, as the import itself would settle it. Leads it updated are not reverted
(their old values were never kept), and the report says how many. A delete by
id is harmless to repeat, so an undo stopped midway is simply run again: each round lists the
client's ids and deletes those of ours still listed, 50 a request, until none is.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ...leadgenius.client import MAX_BATCH_DELETE, LeadGeniusClient
from ...store.db import read_meta
from ...store.import_journal import RowState
from ...store.listing_checks import COMPARED, carries, compared_values
from .target import lock_client

ROUNDS = 3  # a batch delete may delete fewer than it was sent: list, and delete again

UNDO_REPORT_KEYS = ("found", "deleted", "left", "updated_not_reverted", "requests")


@dataclass
class UndoReport:
    found: int = 0  # leads the import created (its journal's ids)
    deleted: int = 0  # of them, no longer listed in the client at the end
    left: int = 0  # still listed after every round
    updated_not_reverted: int = 0  # leads the import updated: their old values are not known
    requests: int = 0

    @property
    def ok(self) -> bool:
        return self.left == 0

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in UNDO_REPORT_KEYS}


@dataclass
class Created:
    """What an ended import's journal says it created."""

    slug: str = ""
    ids: set[str] = field(default_factory=set)  # leads recorded as created
    # rows sent with no answer yet (a stop midway): email -> the values each was sent with;
    # a listed lead with that email and those values, not there before, is the import's too
    unanswered: dict[str, list[str | None]] = field(default_factory=dict)
    not_ours: set[str] = field(default_factory=set)  # there before, or written by others
    updated: int = 0


def created_by(journal_path: Path) -> Created:
    """Read an ended import's journal (read only: the import's job is not opened)."""
    found = Created()
    if not journal_path.is_file():  # stopped before it began: it created nothing
        return found
    db = sqlite3.connect(f"file:{journal_path}?mode=ro", uri=True)
    try:
        found.slug = str(read_meta(db).get("client_slug") or "")
        found.not_ours = {i for (i,) in db.execute(
            "SELECT id FROM pre UNION SELECT id FROM foreign_leads")}
        found.ids = {i for (i,) in db.execute(
            "SELECT lead_id FROM rows WHERE state = ? AND lead_id IS NOT NULL",
            (RowState.CREATED,))} - found.not_ours
        for email, sig in db.execute("SELECT lower(email), sig FROM rows WHERE state = ? "
                                     "AND email IS NOT NULL", (RowState.ATTEMPTED,)):
            found.unanswered.setdefault(email, []).append(sig)
        found.updated = int(db.execute("SELECT count(*) FROM rows WHERE state = ?",
                                       (RowState.UPDATED,)).fetchone()[0])
    finally:
        db.close()
    return found


async def undo_import(api: LeadGeniusClient, journal_path: Path, label: str) -> UndoReport:
    """Delete the leads the import created (`label` names it to other operations on the
    client, which wait)."""
    created = created_by(journal_path)
    report = UndoReport(updated_not_reverted=created.updated)
    if not created.slug or not (created.ids or created.unanswered):
        return report  # it created nothing: nothing to send
    lock = await lock_client(api, created.slug, label)
    try:
        present = await _still_listed(api, created)
        report.found = len(created.ids)
        for _ in range(ROUNDS):
            if not present:
                break
            batch_ids = sorted(present)
            for start in range(0, len(batch_ids), MAX_BATCH_DELETE):
                await api.delete_leads(batch_ids[start:start + MAX_BATCH_DELETE])
            present = await _still_listed(api, created)
        report.deleted, report.left = len(created.ids) - len(present), len(present)
        report.requests = api.stats.requests
        return report
    finally:
        lock.release()


async def _still_listed(api: LeadGeniusClient, created: Created) -> set[str]:
    """Our leads the client still lists; the leads of unanswered rows join ours when seen."""
    present: set[str] = set()
    async for page in api.lead_pages(created.slug, fields=["email", *COMPARED]):
        for lead in page.items:
            lead_id = str(lead.get("id") or "")
            if lead_id in created.ids:
                present.add(lead_id)
            elif lead_id and lead_id not in created.not_ours and any(
                    carries(sig, *compared_values(lead)) for sig in created.unanswered.get(
                        str(lead.get("email") or "").strip().lower(), [])):
                created.ids.add(lead_id)
                present.add(lead_id)
    return present
