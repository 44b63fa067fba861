"""The rejects file: every rejected or failed row in the input's own format, plus `_row` (the
1-based record number) and `_error`, so the user can fix it and import just that file.

In CSV `_row` and `_error` come first, so they stay aligned even for a ragged row (whose cells
are kept as they were); on re-import they map to no field and are dropped."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import orjson

from ..store.files import make_dirs
from .formulas import guarded

#: The columns a CSV rejects file starts with: how bulkio knows one of its own.
REJECTS_COLUMNS = ("_row", "_error")


def rejects_delimiter(header_line: str) -> str:
    """The separator of a CSV rejects file of bulkio's (the input's own): what follows `_row`
    in its header. Comma when the line is not such a header."""
    line = header_line.lstrip("\ufeff")
    first = REJECTS_COLUMNS[0]
    if line.startswith(first) and len(line) > len(first):
        return line[len(first)]
    return ","


def write_rejects(path: Path, fmt: str, columns: list[str], delimiter: str,
                  rows: Iterable[tuple[int, str, object]], *, raw: bool = False) -> int:
    """Write (rowno, error, raw) rows atomically; returns how many. Nothing is written for none.
    CSV cells that a spreadsheet would run as formulas are made inert unless `raw`
    (formats.formulas); reading the file again takes that off."""
    cell = (lambda text: text) if raw else guarded
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            if fmt == "csv":
                writer = csv.writer(f, delimiter=delimiter)
                writer.writerow([*REJECTS_COLUMNS, *map(cell, columns)])
                for rowno, error, record in rows:
                    cells = list(record) if isinstance(record, list) else []
                    writer.writerow([rowno, cell(error), *map(cell, cells)])
                    count += 1
            else:
                for rowno, error, record in rows:
                    f.write(_ndjson_line(rowno, error, record))
                    count += 1
        if count:
            os.replace(tmp, path)
        else:
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return count


def _ndjson_line(rowno: int, error: str, raw: object) -> str:
    obj: dict[str, object]
    try:
        value = orjson.loads(raw) if isinstance(raw, str) else None
    except orjson.JSONDecodeError:
        value = None
    obj = dict(value) if isinstance(value, dict) else {"_raw": raw}
    obj["_row"], obj["_error"] = rowno, error
    return orjson.dumps(obj).decode() + "\n"
