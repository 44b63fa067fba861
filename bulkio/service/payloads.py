"""The page's live view of a mapping: the first rows' payloads, as the import would send
them (the same reader, mapping and payload rules), and what the whole file would give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..ops.imports.input import ImportInput
from ..ops.imports.plan import plan_import
from ..sources.files import open_source
from .mappings import ImportPlan
from .words import plain

ROWS = 3


def first_payloads(path: Path, plan: ImportPlan, client: str) -> list[dict[str, Any]]:
    """The mapping stays in memory: two previews at once never share a file."""
    source = open_source(str(path), fmt="csv")
    try:
        rows = ImportInput(source.reader, plan.options())
        rows.for_client(client)
        out: list[dict[str, Any]] = []
        for admission, built in rows.read_prepared(ROWS)[0]:
            if built is not None and built.payload is not None:
                out.append({"row": admission.rowno, "payload": built.payload})
            else:
                out.append({"row": admission.rowno, "error": plain(admission.error)})
        return out
    finally:
        source.close()


async def summary(path: Path, plan: ImportPlan, client: str) -> dict[str, Any]:
    """The whole file read as the import would (nothing sent): rows to send, repeated in the
    file, rejected with the first reasons. The client's own leads are not looked at."""
    source = open_source(str(path), fmt="csv")
    try:
        rows = ImportInput(source.reader, plan.options())
        rows.for_client(client)
        found = await plan_import(rows, per_minute=None)
    finally:
        source.close()
    return {"rows": found.rows_read, "to_send": found.to_create,
            "repeated_in_file": found.skipped_duplicate, "rejected": found.rejected,
            "rejections": [{"row": row, "reason": plain(reason)}
                           for row, reason in found.rejections],
            "repaired_rows": found.repaired_rows}
