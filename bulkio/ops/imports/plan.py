"""An import's dry run: the source read and mapped as the import would, nothing sent.

In-source duplicates are found on disk, in a temporary journal; the client's own leads are not
looked at. A file is read whole; HubSpot, which does not say how many contacts it holds
without reading them all, is sampled (its first pages), and the plan says it was.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ...formats.sanitize import Built
from ...models import DryRun
from ...store.import_journal import Admission, ImportJournal
from .input import ImportInput

SAMPLES = 3  # payloads shown
REJECTIONS = 10  # rejected rows shown


async def plan_import(rows: ImportInput, *, per_minute: float | None,
                      limit: int | None = None) -> DryRun:
    """Read up to `limit` records (all, when None) and count what the import would do."""
    plan = DryRun(columns={}, samples=[], per_minute=per_minute)
    position: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bulkio-dry-run-") as folder:
        journal = ImportJournal(Path(folder) / "journal.db")
        try:
            while limit is None or plan.rows_read < limit:
                prepared, position = await rows.next_prepared(1000 if limit is None else 100)
                if not prepared:
                    break
                journal.admit([a for a, _ in prepared], position, "create")
                for admission, built in prepared:
                    _count_in(plan, admission, built)
            plan.whole_source = limit is None or (bool(position.get("done", True)) and \
                plan.rows_read < limit)
            plan.notices = rows.notices(journal.notes(),
                                        rows_read=plan.rows_read if plan.whole_source else None)
            plan.repaired_rows = journal.rows_noted("quotes")
        finally:
            journal.close()
    plan.columns = rows.mapping()
    plan.read_as = rows.reader.describe()
    return plan


def _count_in(plan: DryRun, admission: Admission, built: Built | None) -> None:
    if admission.action == "repeat":
        return
    plan.rows_read += 1
    if admission.action == "reject":
        plan.rejected += 1
        if len(plan.rejections) < REJECTIONS:
            plan.rejections.append((admission.rowno, admission.error or ""))
    elif admission.action == "skip":
        plan.skipped_duplicate += 1
    else:
        plan.to_create += 1
        plan.with_email += bool(admission.email)
        if built and built.payload and len(plan.samples) < SAMPLES:
            plan.samples.append(built.payload)
