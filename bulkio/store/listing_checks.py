"""The import journal's checks against the client's listing: a snapshot of the client, rows
settled by it (a lost answer that did create its lead, a batch that did store it), leads the
job created twice (a send that was stored, or listed, after it was found missing), and what
the batches did.

A listed lead is a row's only when it carries the row's values as sent (`signature`:
first and last name and company, trimmed and case-folded); a lead with the row's email and
other values was written by someone else: it is never adopted nor deleted, only counted.

A mixin of `journal.ImportJournal`, whose database (see its schema) and transactions it uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import orjson

_FAIL_UNRESOLVED = ("UPDATE rows SET state = 'failed', error = coalesce(error, 'outcome unknown') "
                    "WHERE state IN ('attempted', 'updating')")
# A row sent more than once, by any path: an earlier send may still be stored (or listed) late.
# (`batched`: journals from before `resends` counted only re-sends after a batch.)
_SENT_TWICE = "(r.resends > 0 OR (r.batched > 0 AND (r.batched > 1 OR r.sent_as = 'single')))"
# A listed lead `s` that is no one else's: not in the client before the job, not another row's,
# not already an extra, not someone else's.
_NO_ONE_ELSES = ("NOT EXISTS (SELECT 1 FROM pre p WHERE p.id = s.id) "
                 "AND NOT EXISTS (SELECT 1 FROM rows o WHERE o.lead_id = s.id) "
                 "AND NOT EXISTS (SELECT 1 FROM extras x WHERE x.id = s.id) "
                 "AND NOT EXISTS (SELECT 1 FROM foreign_leads f WHERE f.id = s.id)")
# How long after its row's first answer a listed lead `s` was seen, when that answer came in
# this run (the parameter: when it started); NULL otherwise (a stop in between, or a crash).
_LATE = ("CASE WHEN coalesce(r.answered_at, r.batch_at) >= ? "
         "THEN s.seen_at - coalesce(r.answered_at, r.batch_at) END")
#: The fields a lead is recognised by, beside its email.
COMPARED = ("firstName", "lastName", "companyName")
#: What a snapshot holds of a listed lead: (email or "", id, first, last, company, seen_at).
Listed = tuple[str, str, "str | None", "str | None", "str | None", float]


def compared_values(lead: Mapping[str, Any]) -> list[str | None]:
    """A lead's COMPARED values, trimmed and case-folded; None for a field it does not carry
    (a payload that does not send it; a listing that does not show it); "" for null."""
    return [str(lead[name] or "").strip().casefold() if name in lead else None
            for name in COMPARED]


def signature(payload: Mapping[str, Any]) -> str:
    """What a row's lead is recognised by: the COMPARED values it sends, as journalled."""
    return orjson.dumps(compared_values(payload)).decode()


def listed(leads: Iterable[Mapping[str, Any]], seen_at: float) -> list[Listed]:
    """A listing page as the snapshot holds it; leads without an email kept with ""."""
    rows = []
    for lead in leads:
        if lead.get("id"):
            first, last, company = compared_values(lead)
            rows.append((str(lead.get("email") or "").strip().lower(), str(lead["id"]),
                         first, last, company, seen_at))
    return rows


def carries(sig: str | None, first: str | None, last: str | None, company: str | None) -> bool:
    """A listed lead carries the row's values: each one the row sent, where the listing shows
    it, is the same (a row journalled before signatures: by email alone)."""
    if sig is None:
        return True
    return all(sent is None or seen is None or sent == seen
               for sent, seen in zip(orjson.loads(sig), (first, last, company), strict=True))


class ListingChecks:
    db: sqlite3.Connection

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def reset_snapshot(self) -> None:
        with self._tx():
            self.db.execute("DELETE FROM server")

    def add_snapshot(self, leads: list[Listed]) -> None:
        """Leads listed in the client now (see `listed`)."""
        with self._tx():
            self.db.executemany("INSERT INTO server VALUES (?, ?, ?, ?, ?, ?)", leads)

    def reconcile(self, *, verify: bool, final: bool, due_before: float | None = None,
                  answered_before: float | None = None, run_start: float = 0.0
                  ) -> dict[str, float]:
        """Settle rows against the latest snapshot; return what was found.

        With `due_before` (a background pass, while rows are still being sent), rows in flight
        are not looked at, and only the rows whose outcome became unknown before then can be
        given up on; a row that is listed is created whenever its outcome became unknown.

        - attempted rows whose email is listed under a lead that is neither pre-existing nor
          another row's, and carries the row's values, become created (the lost answer did
          create it; the batch stored it); one with other values is foreign: counted, left;
        - with `verify`, created rows whose lead is not listed go back to attempted, once;
          a second time they fail; with `answered_before`, only the rows answered before
          then are judged (a lead answered since may not be listed yet): the others are
          `unverified`, the latest answered at `unverified_last`;
        - with `final`, whatever is still unresolved fails with its last error.

        `batch_found`: of the rows found, those last sent in a batch. `listed_late_s`: the
        longest an earlier send's lead, found for a created row whose latest lead is not
        listed yet, took to be listed after the row's first answer, if that came after
        `run_start` (a stop between the two says nothing of the server; 0: none).
        """
        found = missing = batch_found = unverified = 0
        late = unverified_last = 0.0
        with self._tx():
            # Candidates: listed under the row's email, neither pre-existing nor another row's.
            # Matched in SQL (indexed), so memory does not grow with the number of leads.
            taken: set[str] = set()  # assigned in this pass
            recorded = "AND r.unknown_at IS NOT NULL " if due_before is not None else ""
            for rowno, lead_id, sent_as, sig, *seen in self.db.execute(
                    "SELECT r.rowno, s.id, r.sent_as, r.sig, s.first, s.last, s.company "
                    "FROM rows r JOIN server s ON s.email = r.email "
                    f"WHERE r.state = 'attempted' {recorded}"
                    "AND NOT EXISTS (SELECT 1 FROM pre p WHERE p.id = s.id) "
                    "AND NOT EXISTS (SELECT 1 FROM rows o WHERE o.lead_id = s.id "
                    "                AND o.state = 'created') "
                    "ORDER BY r.rowno, s.rowid").fetchall():
                if lead_id in taken:
                    continue
                if not carries(sig, *seen):
                    self._foreign(lead_id, rowno)
                    continue
                taken.add(lead_id)
                self.db.execute("UPDATE rows SET state = 'created', lead_id = ?, error = NULL "
                                "WHERE rowno = ? AND state = 'attempted'", (lead_id, rowno))
                found += 1
                batch_found += sent_as == "batch"
            if verify:
                gone = self.db.execute(
                    "SELECT rowno, resent, sent_at FROM rows WHERE state = 'created' AND lead_id "
                    "NOT IN (SELECT id FROM server)").fetchall()
                for rowno, resent, sent_at in gone:
                    other = self._other_lead_of(rowno, run_start)
                    if other is not None:  # an earlier send of the row, listed late: its lead
                        self.db.execute("UPDATE rows SET lead_id = ? WHERE rowno = ?",
                                        (other[0], rowno))
                        late = max(late, other[1])
                        continue
                    if answered_before is not None and (sent_at or 0) > answered_before:
                        unverified += 1
                        unverified_last = max(unverified_last, sent_at)
                        continue
                    missing += 1
                    if resent:
                        self.db.execute("UPDATE rows SET state = 'failed', error = ? WHERE rowno = ?",
                                        ("created, but still missing from the client after a "
                                         "re-send", rowno))
                    else:
                        self.db.execute("UPDATE rows SET state = 'attempted', resent = 1, "
                                        "maybe_sent = 0, lead_id = NULL, error = 'missing at "
                                        "verification' WHERE rowno = ?", (rowno,))
            self.db.execute(
                "UPDATE rows SET state = 'failed', error = 'outcome unknown and no email to look '"
                "|| 'it up by' WHERE state = 'attempted' AND email IS NULL AND maybe_sent = 1 "
                f"{'AND unknown_at <= ?' if due_before is not None else ''}",
                () if due_before is None else (due_before,))
            if final:
                self.db.execute(_FAIL_UNRESOLVED)
        return {"found": found, "missing": missing, "batch_found": batch_found,
                "listed_late_s": late, "unverified": unverified,
                "unverified_last": unverified_last}  # counts, and times

    def _other_lead_of(self, rowno: int, run_start: float) -> tuple[str, float] | None:
        """A listed lead of a row sent more than once, other than the one its answer named:
        the row's email and values, neither pre-existing nor another row's nor an extra; and
        how long after the row's first answer its page came (see `_LATE`; else 0)."""
        for lead_id, late, sig, *seen in self.db.execute(
                f"SELECT s.id, {_LATE}, r.sig, s.first, s.last, s.company FROM rows r "
                f"JOIN server s ON s.email = r.email WHERE r.rowno = ? AND {_SENT_TWICE} "
                f"AND {_NO_ONE_ELSES} "
                "ORDER BY s.rowid", (run_start, rowno)).fetchall():
            if carries(sig, *seen):
                return str(lead_id), float(late or 0.0)
        return None

    def _foreign(self, lead_id: str, rowno: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO foreign_leads VALUES (?, ?)", (lead_id, rowno))

    def fail_unresolved(self) -> None:
        """The end of an import: whatever is still unresolved fails with its last error."""
        with self._tx():
            self.db.execute(_FAIL_UNRESOLVED)

    def batch_cohort(self, after: float, until: float) -> tuple[int, int]:
        """Of the rows last sent in a batch whose answer came in (after, until]: how many are
        created, and how many there are. Call it when all of them have had their settle time
        and before `to_resend` takes the missing ones: a cohort decided whole, so rows found
        early and rows found missing late weigh alike in the persistence it measures."""
        created, total = self.db.execute(
            "SELECT coalesce(sum(state = 'created'), 0), count(*) FROM rows "
            "WHERE sent_as = 'batch' AND unknown_at > ? AND unknown_at <= ?",
            (after, until)).fetchone()
        return int(created), int(total)

    def to_resend(self, due_before: float | None = None
                  ) -> list[tuple[int, str, str | None, str, str | None]]:
        """(rowno, state, lead_id, raw, sent_as) of the rows a reconcile pass left unresolved (with
        `due_before`, those whose outcome became unknown before then). They are taken: no
        longer unknown (they are about to be sent again), so no other pass takes them too."""
        due = "AND unknown_at <= ? " if due_before is not None else ""
        with self._tx():
            rows = self.db.execute(
                f"SELECT rowno, state, lead_id, raw, sent_as FROM rows WHERE state IN ('attempted', "
                f"'updating') {due}ORDER BY rowno",
                () if due_before is None else (due_before,)).fetchall()
            self.db.executemany("UPDATE rows SET unknown_at = NULL, resends = resends + 1 "
                                "WHERE rowno = ?", [(row[0],) for row in rows])
        return rows

    # -- leads created twice (a send stored or listed after it was found missing) -------------

    def find_extras(self, run_start: float = 0.0) -> tuple[int, float | None]:
        """After a listing: leads of the snapshot carrying the email and the values of a row of
        this job that was sent more than once, other than the row's own lead, not in the
        client before the job and no other row's: created twice by this job. Recorded for
        deletion; extras sent for deletion and no longer listed become removed, those still
        listed are found again. Returns (new extras, the longest one took to be listed: from
        its row's first answer, in this run, to the page that showed it; an upper bound)."""
        with self._tx():
            found = self.db.execute(
                f"SELECT s.id, r.rowno, {_LATE}, r.sig, s.first, s.last, s.company FROM server s "
                "JOIN emails e ON e.email = s.email JOIN rows r ON r.rowno = e.rowno "
                f"WHERE r.state = 'created' AND s.id != r.lead_id AND {_SENT_TWICE} "
                f"AND {_NO_ONE_ELSES}", (run_start,)).fetchall()
            extras = []
            for lead_id, rowno, late, sig, *seen in found:
                if carries(sig, *seen):
                    extras.append((lead_id, rowno, late))
                else:
                    self._foreign(lead_id, rowno)
            self.db.executemany("INSERT INTO extras (id, rowno) VALUES (?, ?)",
                                [(lead_id, rowno) for lead_id, rowno, _ in extras])
            self.db.execute("UPDATE extras SET state = CASE WHEN id IN (SELECT id FROM server) "
                            "THEN 'found' ELSE 'removed' END WHERE state = 'deleting'")
        lateness = [late for _, _, late in extras if late is not None]
        return len(extras), max(lateness) if lateness else None

    def extras_to_delete(self) -> list[str]:
        return [i for (i,) in self.db.execute("SELECT id FROM extras WHERE state = 'found'")]

    def extras_sent(self, ids: list[str]) -> None:
        with self._tx():
            self.db.executemany("UPDATE extras SET state = 'deleting' WHERE id = ?",
                                [(i,) for i in ids])

    def last_sent_twice(self) -> float | None:
        """When a row whose earlier send may still be stored late (see find_extras) was last
        sent."""
        row = self.db.execute(f"SELECT max(r.sent_at) FROM rows r WHERE {_SENT_TWICE}").fetchone()
        return None if row[0] is None else float(row[0])

    def batch_figures(self) -> dict[str, int]:
        """The report's batch keys that the rows hold."""
        one = self.db.execute(
            "SELECT coalesce(sum(state = 'created' AND sent_as = 'batch'), 0), "
            "coalesce(sum(batched > 0 AND sent_as = 'single'), 0), "
            "coalesce(sum(state = 'created' AND batched = 0 AND sent_as = 'single'), 0) "
            "FROM rows").fetchone()
        removed = self.db.execute("SELECT count(*) FROM extras WHERE state = 'removed'").fetchone()
        foreign = self.db.execute("SELECT count(*) FROM foreign_leads").fetchone()
        return {"batch_leads_persisted": int(one[0]), "resent_single": int(one[1]),
                "sent_alone": int(one[2]), "duplicates_removed": int(removed[0]),
                "foreign_leads": int(foreign[0])}

