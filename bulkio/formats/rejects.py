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


def write_rejects(path: Path, fmt: str, columns: list[str], delimiter: str,
                  rows: Iterable[tuple[int, str, object]]) -> int:
    """Write (rowno, error, raw) rows atomically; returns how many. Nothing is written for none."""
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            if fmt == "csv":
                writer = csv.writer(f, delimiter=delimiter)
                writer.writerow(["_row", "_error", *columns])
                for rowno, error, raw in rows:
                    cells = list(raw) if isinstance(raw, list) else []
                    writer.writerow([rowno, error, *cells])
                    count += 1
            else:
                for rowno, error, raw in rows:
                    f.write(_ndjson_line(rowno, error, raw))
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
