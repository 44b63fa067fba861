"""The import journal's checks against the client's listing: a snapshot of the client, rows
settled by it (a lost answer that did create its lead, a batch that did store it), leads the
job created twice (a batch stored after it was found missing), and what the batches did.

A mixin of `journal.ImportJournal`, whose database (see its schema) and transactions it uses.
"""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager

_FAIL_UNRESOLVED = ("UPDATE rows SET state = 'failed', error = coalesce(error, 'outcome unknown') "
                    "WHERE state IN ('attempted', 'updating')")
# A row sent again after a batch carried it: that batch may still store it (late).
_SENT_TWICE = "r.batched > 0 AND (r.batched > 1 OR r.sent_as = 'single')"


class ListingChecks:
    db: sqlite3.Connection

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def reset_snapshot(self) -> None:
        with self._tx():
            self.db.execute("DELETE FROM server")

    def add_snapshot(self, leads: list[tuple[str, str]]) -> None:
        """(lower-cased email or "", id) of leads listed in the client now."""
        with self._tx():
            self.db.executemany("INSERT INTO server (email, id) VALUES (?, ?)", leads)

    def reconcile(self, *, verify: bool, final: bool,
                  due_before: float | None = None) -> dict[str, int]:
        """Settle rows against the latest snapshot; return what was found.

        With `due_before` (a background pass, while rows are still being sent), rows in flight
        are not looked at, and only the rows whose outcome became unknown before then can be
        given up on; a row that is listed is created whenever its outcome became unknown.

        - attempted rows whose email is listed under a lead that is neither pre-existing nor
          another row's become created (the lost answer did create it; the batch stored it);
        - with `verify`, created rows whose lead is not listed go back to attempted, once;
          a second time they fail;
        - with `final`, whatever is still unresolved fails with its last error.

        `batch_found`: of the rows found, those last sent in a batch.
        """
        found = missing = batch_found = 0
        with self._tx():
            # Candidates: listed under the row's email, neither pre-existing nor another row's.
            # Matched in SQL (indexed), so memory does not grow with the number of leads.
            taken: set[str] = set()  # assigned in this pass
            recorded = "AND r.unknown_at IS NOT NULL " if due_before is not None else ""
            for rowno, lead_id, sent_as in self.db.execute(
                    "SELECT r.rowno, s.id, r.sent_as FROM rows r JOIN server s ON s.email = r.email "
                    f"WHERE r.state = 'attempted' {recorded}"
                    "AND NOT EXISTS (SELECT 1 FROM pre p WHERE p.id = s.id) "
                    "AND NOT EXISTS (SELECT 1 FROM rows o WHERE o.lead_id = s.id "
                    "                AND o.state = 'created') "
                    "ORDER BY r.rowno").fetchall():
                if lead_id in taken:
                    continue
                taken.add(lead_id)
                self.db.execute("UPDATE rows SET state = 'created', lead_id = ?, error = NULL "
                                "WHERE rowno = ? AND state = 'attempted'", (lead_id, rowno))
                found += 1
                batch_found += sent_as == "batch"
            if verify:
                gone = self.db.execute(
                    "SELECT rowno, resent FROM rows WHERE state = 'created' AND lead_id NOT IN "
                    "(SELECT id FROM server)").fetchall()
                for rowno, resent in gone:
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
        return {"found": found, "missing": missing, "batch_found": batch_found}

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
            self.db.executemany("UPDATE rows SET unknown_at = NULL WHERE rowno = ?",
                                [(row[0],) for row in rows])
        return rows

    # -- leads created twice (a batch that was stored after it was found missing) ------------

    def find_extras(self, listed_at: float) -> tuple[int, float | None]:
        """After a listing: leads of the snapshot carrying the email of a row of this job that
        was sent again after a batch, other than the row's own lead, not in the client before
        the job and no other row's: created twice by this job. Recorded for deletion; extras
        sent for deletion and no longer listed become removed, those still listed are found
        again. Returns (new extras, the longest a batch can have taken to be stored, by them:
        from the row's first batch to this listing)."""
        with self._tx():
            rows = self.db.execute(
                "SELECT s.id, r.rowno, r.batch_at FROM server s "
                "JOIN emails e ON e.email = s.email JOIN rows r ON r.rowno = e.rowno "
                f"WHERE r.state = 'created' AND s.id != r.lead_id AND {_SENT_TWICE} "
                "AND NOT EXISTS (SELECT 1 FROM pre p WHERE p.id = s.id) "
                "AND NOT EXISTS (SELECT 1 FROM rows o WHERE o.lead_id = s.id) "
                "AND NOT EXISTS (SELECT 1 FROM extras x WHERE x.id = s.id)").fetchall()
            self.db.executemany("INSERT INTO extras (id, rowno) VALUES (?, ?)",
                                [(lead_id, rowno) for lead_id, rowno, _ in rows])
            self.db.execute("UPDATE extras SET state = CASE WHEN id IN (SELECT id FROM server) "
                            "THEN 'found' ELSE 'removed' END WHERE state = 'deleting'")
        starts = [batch_at for _, _, batch_at in rows if batch_at is not None]
        return len(rows), (listed_at - min(starts)) if starts else None

    def extras_to_delete(self) -> list[str]:
        return [i for (i,) in self.db.execute("SELECT id FROM extras WHERE state = 'found'")]

    def extras_sent(self, ids: list[str]) -> None:
        with self._tx():
            self.db.executemany("UPDATE extras SET state = 'deleting' WHERE id = ?",
                                [(i,) for i in ids])

    def last_sent_twice(self) -> float | None:
        """When a row that a batch may still store late (see find_extras) was last sent."""
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
        return {"batch_leads_persisted": int(one[0]), "resent_single": int(one[1]),
                "sent_alone": int(one[2]), "duplicates_removed": int(removed[0])}

