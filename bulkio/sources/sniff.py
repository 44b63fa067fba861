"""What a file really is, from its first bytes: a workbook, an archive, a PDF, random binary...

People hand an import whatever their tools saved: an .xlsx renamed .csv, a zip of CSVs, a
gzip without its suffix. Read as text, such a file yields hundreds of garbage rows (or none,
with exit 0). These are recognised before anything is read or sent, and refused in one line
that says what the file looks like and what to do.
"""

from __future__ import annotations

import zipfile

GZIP_MAGIC = b"\x1f\x8b"
SAVE_AS_CSV = "open it in its program and save it as CSV (UTF-8), then import the .csv"

#: Leading bytes -> what the file is and what to do.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     f"an Excel 97-2003 workbook (.xls) or another Office document: {SAVE_AS_CSV}"),
    (GZIP_MAGIC, "gzip-compressed data: name it with a .gz suffix (bulkio reads .csv.gz and "
                 ".ndjson.gz), or decompress it first"),
    (b"BZh", "bzip2-compressed data: decompress it first (bunzip2)"),
    (b"\xfd7zXZ\x00", "xz-compressed data: decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data: decompress it first (unzstd)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive: extract the CSV from it first"),
    (b"Rar!\x1a\x07", "a RAR archive: extract the CSV from it first"),
    (b"%PDF-", "a PDF document: export the table from its source as CSV"),
    (b"SQLite format 3\x00", "an SQLite database: export the table as CSV "
                             "(sqlite3 -csv -header FILE 'select ...')"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PAR1", "a Parquet file: convert it to CSV or NDJSON first"),
)
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# Control bytes that never occur in text (tab, line feed, form feed, carriage return and the
# DOS end-of-file mark do; NUL is judged on its own, since stray NULs do occur in text files).
_CONTROL = bytes(b for b in range(32) if b not in (0, 9, 10, 11, 12, 13, 26)) + b"\x7f"
_TEXT_TABLE = bytes.maketrans(b"", b"")


def what_binary(head: bytes, path: str | None = None) -> str | None:
    """What `head` (the first bytes of a file) is, if it is not text; None for text.

    `path` lets a zip be looked into (to tell a workbook from an archive).

    >>> what_binary(b"%PDF-1.7 ...")
    'a PDF document: export the table from its source as CSV'
    >>> what_binary(b"email,name\\r\\n") is None
    True
    """
    if head.startswith(ZIP_MAGICS):
        return _what_zip(path)
    for magic, what in MAGIC:
        if head.startswith(magic):
            return what
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html")):
        return ("an HTML page (some tools save a table as HTML with a .csv or .xls name): "
                f"{SAVE_AS_CSV}")
    if not head or utf16_or_32(head):
        return None
    control = len(head) - len(head.translate(_TEXT_TABLE, _CONTROL))
    nuls = head.count(0)
    if control > max(8, len(head) // 100) or nuls > len(head) * 0.3:
        return (f"binary data, not text ({control + nuls:,} control bytes in the first "
                f"{len(head):,}): is it the file you meant to import?")
    return None


def _what_zip(path: str | None) -> str:
    names: list[str] = []
    if path:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()[:200]
        except (OSError, zipfile.BadZipFile):
            pass
    if any(n.startswith("xl/") for n in names):
        return f"an Excel workbook (.xlsx): {SAVE_AS_CSV}"
    if "mimetype" in names and path:
        try:
            with zipfile.ZipFile(path) as archive:
                kind = archive.read("mimetype")
        except (OSError, zipfile.BadZipFile, KeyError):
            kind = b""
        if b"spreadsheet" in kind:
            return f"an OpenDocument spreadsheet (.ods): {SAVE_AS_CSV}"
    if any(n.startswith("word/") for n in names):
        return "a Word document (.docx), not a table"
    inner = [n for n in names if n.lower().endswith((".csv", ".ndjson", ".jsonl", ".txt"))]
    if inner:
        return f"a zip archive (holding {inner[0]!r}): extract it first, then import the file"
    return "a zip archive (or an Office document): extract the CSV from it first"


def utf16_or_32(head: bytes) -> str | None:
    """The UTF-16/32 encoding whose BOM or NUL pattern `head` shows, or None.

    Without a BOM, text in UTF-16 has a NUL in every other byte for the Latin script (the
    high byte of each character); which half tells the byte order.
    """
    for bom, name in ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
                      (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return name
    sample = head[:4096]
    sample = sample[: len(sample) // 4 * 4]
    if len(sample) < 8:
        return None
    quarters = [sample[i::4].count(0) / (len(sample) // 4) for i in range(4)]
    if quarters[1] > 0.9 and quarters[2] > 0.9 and quarters[3] > 0.9 and quarters[0] < 0.5:
        return "utf-32-le"
    if quarters[0] > 0.9 and quarters[1] > 0.9 and quarters[2] > 0.9 and quarters[3] < 0.5:
        return "utf-32-be"
    even, odd = sample[0::2].count(0) / (len(sample) // 2), sample[1::2].count(0) / (len(sample) // 2)
    if odd > 0.7 and even < 0.1:
        return "utf-16-le"
    if even > 0.7 and odd < 0.1:
        return "utf-16-be"
    return None

