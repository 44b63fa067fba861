"""The page's live view of a mapping: the first rows' payloads, as the import would send
them (the same reader, mapping and payload rules)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..ops.imports.input import ImportInput
from ..ops.imports.job import ImportOptions
from ..sources.files import open_source
from .mappings import ImportPlan

ROWS = 3


def first_payloads(path: Path, plan: ImportPlan, client: str) -> list[dict[str, Any]]:
    """The mapping stays in memory: two previews at once never share a file."""
    source = open_source(str(path), fmt="csv")
    try:
        rows = ImportInput(source.reader, ImportOptions(mapping_data=plan.mapping,
                                                        notes_columns=plan.notes_columns))
        rows.for_client(client)
        out: list[dict[str, Any]] = []
        for admission, built in rows.read_prepared(ROWS)[0]:
            if built is not None and built.payload is not None:
                out.append({"row": admission.rowno, "payload": built.payload})
            else:
                out.append({"row": admission.rowno, "error": admission.error})
        return out
    finally:
        source.close()
