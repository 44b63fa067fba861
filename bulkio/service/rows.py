"""An import's rows that did not go as sent, as the page and the API show them: the row
errors (read from the job's rejects file, a page at a time), the rejects file given back as
the upload was, and the rows read with a stray quote kept as typed."""

from __future__ import annotations

import codecs
import csv
import io
import sqlite3
from pathlib import Path
from typing import Any

from ..formats.formulas import unguarded
from ..formats.rejects import rejects_delimiter
from .words import plain


def errors_page(job_dir: Path, job: dict[str, Any], page: int, limit: int
                ) -> tuple[list[dict[str, Any]], int]:
    """Row errors from the job's rejects file: (this page of them, how many in all)."""
    path = job_dir / "bulkio" / "rejects.csv"
    if not path.exists():
        return [], 0
    column = (job["request"].get("primary_identifier") or {}).get("column")
    out: list[dict[str, Any]] = []
    total = 0
    start = (page - 1) * limit
    with path.open(encoding="utf-8-sig", newline="") as f:
        delimiter = rejects_delimiter(f.readline())  # the upload's own separator
        f.seek(0)
        for record in csv.DictReader(f, delimiter=delimiter):
            if start <= total < start + limit:
                row = record.get("_row")
                out.append({"row": int(row) if row and row.isdigit() else row,
                            "error": plain(record.get("_error")),
                            # as typed: the file's spreadsheet guard is not the value
                            "value": unguarded(record.get(column) or "") if column else ""})
            total += 1
    return out, total


def rejects_as_uploaded(path: Path, codec: str, bom: bool) -> tuple[bytes, str]:
    """The rejects file as the upload was: its encoding (with a byte order mark when it had
    one, so Excel reads it right) and separator, each reason in the page's words. A cell the
    upload's encoding cannot hold (a reason's own characters) makes it UTF-8 with a BOM.
    (the bytes, their charset)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        delimiter = rejects_delimiter(f.readline())
        f.seek(0)
        rows = list(csv.reader(f, delimiter=delimiter))
    for row in rows[1:]:
        if len(row) > 1:
            row[1] = plain(row[1]) or ""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = out.getvalue()
    try:
        body = text.encode(codec)
    except (UnicodeEncodeError, LookupError):
        codec, bom, body = "utf-8", True, text.encode("utf-8")
    if bom:
        body = BOM.get(codecs.lookup(codec).name, b"") + body
    return body, codecs.lookup(codec).name


BOM = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE,
       "utf-16-be": codecs.BOM_UTF16_BE}


def repaired_rows(job_dir: Path, most: int = 100) -> list[dict[str, Any]]:
    """Rows read with a stray quote kept as typed (the column it was in), from the import's
    journal, read only: the page shows them with the rows, so they can be checked."""
    path = job_dir / "bulkio" / "journal.db"
    if not path.is_file():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [{"row": row, "column": column} for row, column in db.execute(
            "SELECT rowno, detail FROM notes WHERE kind = 'quotes' ORDER BY rowno LIMIT ?",
            (most,))]
    except sqlite3.OperationalError:  # a journal from before notes were kept
        return []
    finally:
        db.close()
