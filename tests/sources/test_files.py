"""Opening a source: what a file really is comes from its bytes; binary input is refused in one
line that says what it looks like, before anything is read as rows."""

from __future__ import annotations

import gzip
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bulkio.errors import SourceError
from bulkio.sources.files import open_source
from bulkio.sources.sniff import utf16_or_32, what_binary


def xlsx(path: Path) -> Path:
    """A minimal Office Open XML workbook: the parts every .xlsx has."""
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        book.writestr("xl/workbook.xml", "<workbook/>")
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return path


def refusal(path: Path, **kwargs: Any) -> str:
    with pytest.raises(SourceError) as caught:
        open_source(str(path), **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_an_xlsx_named_csv_is_refused_as_a_workbook(tmp_path: Path) -> None:
    """The issue's case: an Excel file given as CSV is not read as 754 garbage rows."""
    message = refusal(xlsx(tmp_path / "leads.csv"))
    assert "is an Excel workbook (.xlsx): open it in its program and save it as CSV" in message


@pytest.mark.parametrize(("content", "expected"), [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "Excel 97-2003 workbook (.xls)"),
    (gzip.compress(b"email\na@x.org\n"), "gzip-compressed data: name it with a .gz suffix"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
    (b"<!DOCTYPE html><html><table><tr><td>a</td></tr></table>", "an HTML page"),
    (b"SQLite format 3\x00" + bytes(100), "an SQLite database"),
    (random.Random(10).randbytes(100_000), "binary data, not text"),
], ids=["xls", "gzip", "pdf", "html", "sqlite", "random"])
def test_binary_files_in_disguise_are_refused(tmp_path: Path, content: bytes, expected: str) -> None:
    """Each says what it looks like; --format csv does not change that."""
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    assert expected in refusal(path)
    assert expected in refusal(path, fmt="csv")


def test_a_zip_of_csvs_names_the_file_inside(tmp_path: Path) -> None:
    """A small zip of a CSV (which used to import 0 rows with exit 0) says to extract it."""
    path = tmp_path / "export.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("leads.csv", "email\na@x.org\n")
    assert "a zip archive (holding 'leads.csv'): extract it first" in refusal(path)


def test_a_gz_name_on_plain_text_is_refused_with_the_fix(tmp_path: Path) -> None:
    """leads.csv.gz that is not gzip: the name is wrong, and the message says so."""
    path = tmp_path / "leads.csv.gz"
    path.write_bytes(b"email\na@x.org\n")
    assert "is not gzip data (if it is plain text, name it without .gz)" in refusal(path)


def test_excel_names_are_refused_before_opening(tmp_path: Path) -> None:
    """A .xlsx path is refused by its name alone, with what to do."""
    assert "is an Excel workbook: open it in its program" in refusal(tmp_path / "leads.xlsx")


def test_text_with_stray_nuls_and_utf16_are_not_binary() -> None:
    """A few NUL bytes in a CSV, and UTF-16 (NULs in every other byte), are text."""
    assert what_binary(b"email,name\r\n" * 100 + b"a@x.org,A\x00\x00\r\n") is None
    utf16 = "email\tname\r\na@x.org\tA\r\n".encode("utf-16-le")
    assert what_binary(utf16) is None and utf16_or_32(utf16) == "utf-16-le"
    assert utf16_or_32("email\r\n".encode("utf-16-be")) == "utf-16-be"


def test_gzipped_sources_are_read_and_a_truncated_one_is_not_an_error(tmp_path: Path) -> None:
    """A whole .csv.gz reads; a truncated one opens too (its cut row is rejected when read)."""
    path = tmp_path / "leads.csv.gz"
    whole = gzip.compress(b"email\n" + b"".join(b"r%d@x.org\n" % i for i in range(50_000)))
    path.write_bytes(whole[: len(whole) * 3 // 4])
    source = open_source(str(path))
    records = []
    while batch := source.reader.read_batch(5000):
        records += batch
    source.close()
    assert records[-1].values is None and "truncated" in str(records[-1].error)
    assert all(r.values for r in records[:-1]) and len(records) > 10_000
