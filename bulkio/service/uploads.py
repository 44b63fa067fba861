"""POST /leads/import/preview: an uploaded CSV, kept for an hour under a `file_id`, read as
`bulkio import` reads it (encodings, delimiters, broken quotes), and described: headers, the
first 5 rows, the row count, the columns that hold emails and phones, and bulkio's own
column -> field mapping to start the page's editor from.

An upload over the size limit is refused (413) while it streams: what was received is deleted
at once, never kept. A file that is not CSV text is 415 (by its declared type or name) or 400
(by its bytes: a workbook, a PDF, no header).
"""

from __future__ import annotations

import codecs
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from ..errors import SourceError
from ..formats.mapping import auto_field
from ..sources.files import open_source
from ..store.files import private_dir, private_file
from .jobs_view import iso

PREVIEW_TTL_S = 3600.0
SAMPLE_ROWS = 5
CSV_TYPES = frozenset(("text/csv", "application/csv", "text/plain", "text/tab-separated-values",
                       "application/vnd.ms-excel", "application/octet-stream", ""))
CSV_NAMES = (".csv", ".tsv", ".txt")
EMAILISH = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONEISH = re.compile(r"^\+?[\d\s().\-]{7,}$")


class UploadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Preview:
    file_id: str
    file_name: str
    path: Path
    headers: list[str]
    sample_rows: list[list[str]]
    row_count: int
    email_columns: list[str]
    phone_columns: list[str]
    suggested: dict[str, str | None]  # column -> LeadGenius field (bulkio's auto-mapping)
    read_as: str
    expires_at: float
    encoding: str = "utf-8"  # the file's codec, and whether it began with a byte order mark:
    bom: bool = False        # its rejects are given back the same way, for Excel

    def answer(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "file_name": self.file_name, "headers": self.headers,
                "sample_rows": self.sample_rows, "row_count": self.row_count,
                "auto_detected_identifiers": {"email_columns": self.email_columns,
                                              "phone_columns": self.phone_columns},
                "expires_at": iso(self.expires_at), "suggested_mappings": self.suggested,
                "read_as": self.read_as, "encoding": self.encoding, "bom": self.bom}


BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

#: what a declared type is, in words (the type itself means little to most people)
TYPE_WORDS = {
    "application/pdf": "a PDF",
    "application/vnd.ms-excel": "an Excel workbook",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel workbook",
    "application/vnd.oasis.opendocument.spreadsheet": "a spreadsheet",
    "application/json": "a JSON file",
    "application/zip": "a zip archive",
}


async def receive(request: web.Request, uploads: Path, max_bytes: int) -> tuple[Path, str]:
    """Stream the multipart `file` field to disk; (path, the file's name)."""
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise UploadRefused(400, "send the CSV as multipart/form-data, in a field named "
                                 "`file`") from None
    part = await reader.next()
    while part is not None and (not isinstance(part, BodyPartReader) or part.name != "file"):
        part = await reader.next()
    if part is None or not isinstance(part, BodyPartReader):
        raise UploadRefused(400, "the form has no `file` field")
    name = Path(part.filename or "upload.csv").name
    declared = part.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if declared not in CSV_TYPES or (declared in ("application/octet-stream", "")
                                     and not name.lower().endswith(CSV_NAMES)):
        raise UploadRefused(415, f"{name} is {TYPE_WORDS.get(declared, 'not a CSV file')}: "
                                 "save it as CSV (in Excel: File, Save As, CSV UTF-8) and "
                                 "upload that")
    path = private_dir(uploads) / f"{secrets.token_hex(12)}.csv"
    size = 0
    try:
        with private_file(path).open("wb") as out:
            while chunk := await part.read_chunk(1 << 16):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRefused(413, f"the file exceeds the {max_bytes // (1 << 20)} MB "
                                             "limit")
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)  # a refused or broken upload is never kept
        raise
    if size == 0:
        path.unlink(missing_ok=True)
        raise UploadRefused(400, f"{name} is empty")
    return path, name


def describe(path: Path, name: str) -> Preview:
    """Read the stored upload as an import would (in a worker thread: it reads it whole)."""
    try:
        source = open_source(str(path), fmt="csv")
    except SourceError as error:
        path.unlink(missing_ok=True)
        raise UploadRefused(400, str(error).replace(str(path), name)) from None
    try:
        reader = source.reader
        headers = list(reader.names or reader.columns)
        samples: list[list[str]] = []
        count = 0
        while batch := reader.read_batch(1000):
            for record in batch:
                count += 1
                if len(samples) < SAMPLE_ROWS and isinstance(record.raw, list):
                    samples.append(record.raw)
        read_as = reader.describe()
        codec = getattr(getattr(reader, "encoding", None), "codec", "utf-8")
    finally:
        source.close()
    with path.open("rb") as raw:
        bom = raw.read(4).startswith(BOMS)
    suggested = {h: auto_field(h) for h in headers}
    emails = [h for i, h in enumerate(headers)
              if suggested[h] == "email" or _mostly(samples, i, EMAILISH)]
    phones = [h for i, h in enumerate(headers)
              if suggested[h] == "phoneNumber" or _mostly(samples, i, PHONEISH)]
    return Preview(file_id="preview_" + secrets.token_hex(8), file_name=name, path=path,
                   headers=headers, sample_rows=samples, row_count=count, email_columns=emails,
                   phone_columns=[p for p in phones if p not in emails], suggested=suggested,
                   read_as=read_as, expires_at=time.time() + PREVIEW_TTL_S, encoding=codec,
                   bom=bom)


def _mostly(rows: list[list[str]], index: int, pattern: re.Pattern[str]) -> bool:
    values = [r[index].strip() for r in rows if index < len(r) and r[index].strip()]
    return bool(values) and sum(bool(pattern.match(v)) for v in values) * 2 > len(values)
