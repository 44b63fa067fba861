"""The CSV reader against files as people have them; round trips by hypothesis."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bulkio.errors import SourceError
from bulkio.sources.csv_records import CsvRecords, detect_delimiter

CELL = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", terminator: str = "\r\n",
              encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    # csv.writer quotes only the line-ending characters of its own terminator; a file ending
    # lines in \r (or \n) with a bare \n (or \r) in a cell is ambiguous, so quote every cell.
    quoting = csv.QUOTE_MINIMAL if terminator == "\r\n" else csv.QUOTE_ALL
    csv.writer(buffer, delimiter=delimiter, lineterminator=terminator,
               quoting=quoting).writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def read_all(data: bytes, **kwargs: str) -> tuple[CsvRecords, list]:  # type: ignore[type-arg]
    reader = CsvRecords(io.BytesIO(data), **kwargs)
    records = []
    while batch := reader.read_batch(7):
        records += batch
    return reader, records


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    width = draw(st.integers(min_value=1, max_value=6))
    names = draw(st.lists(st.from_regex(r"[A-Za-z][A-Za-z0-9 _]{0,10}[A-Za-z0-9]", fullmatch=True),
                          min_size=width, max_size=width,
                          unique_by=lambda n: n.strip().casefold()))
    rows = draw(st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=20))
    return names, rows


@settings(max_examples=150, deadline=None)
@given(tables(), st.sampled_from(",;\t|"), st.sampled_from(["\r\n", "\n", "\r"]), st.booleans())
@example((["Email", "Notes"], [["a@x.com", 'say "hi",\r\nthen\rleave']]), ",", "\r\n", True)
@example((["Name"], [[""], ["  "]]), ",", "\n", False)
def test_round_trip(table: tuple[list[str], list[list[str]]], delimiter: str, terminator: str,
                    bom: bool) -> None:
    """Whatever csv.writer wrote, the reader gives back: cells, quotes, newlines, any ending."""
    names, rows = table
    data = csv_bytes([names, *rows], delimiter=delimiter, terminator=terminator, bom=bom)
    reader, records = read_all(data, delimiter=delimiter)
    assert reader.columns == [n.strip() for n in names]
    assert [r.error for r in records] == [None] * len(records)
    assert [list(r.values.values()) for r in records] == rows
    assert [r.rowno for r in records] == list(range(1, len(rows) + 1))
    assert reader.offset == len(data)


@settings(max_examples=80, deadline=None)
@given(tables(), st.integers(min_value=0, max_value=20))
def test_resume_at_a_checkpoint_continues_exactly(table: tuple[list[str], list[list[str]]],
                                                   cut: int) -> None:
    """Seeking to a record's end offset yields exactly the records after it."""
    names, rows = table
    data = csv_bytes([names, *rows])
    reader = CsvRecords(io.BytesIO(data), delimiter=",")
    first = reader.read_batch(cut)
    offset, rowno = reader.offset, (first[-1].rowno if first else 0)
    resumed = CsvRecords(io.BytesIO(data), delimiter=",")
    resumed.resume_at(offset, rowno)
    rest = []
    while batch := resumed.read_batch(5):
        rest += batch
    assert [r.values for r in first + rest] == [dict(zip(reader.columns, row, strict=True))
                                                for row in rows]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_detection(delimiter: str) -> None:
    """Comma, semicolon, tab and pipe files are told apart from their first lines."""
    rows = [["First Name", "Email", "Company"], ["Ada", "ada@x.com", "Engines, Ltd"],
            ["Alan", "alan@x.com", "Bletchley"]]
    reader, records = read_all(csv_bytes(rows, delimiter=delimiter))
    assert reader.delimiter == delimiter
    assert records[0].values == {"First Name": "Ada", "Email": "ada@x.com", "Company": "Engines, Ltd"}


def test_windows_1252_falls_back_and_encoding_can_be_forced() -> None:
    """Not UTF-8: read as Windows-1252 (curly quotes, accents); --encoding overrides."""
    data = "Name,Note\r\nJosé,“quoted”\r\n".encode("cp1252")
    reader, records = read_all(data)
    assert reader.encoding == "cp1252"
    assert records[0].values == {"Name": "José", "Note": "“quoted”"}
    _, forced = read_all("Name\r\nZoë\r\n".encode("latin-1"), encoding="latin-1")
    assert forced[0].values == {"Name": "Zoë"}


def test_a_stray_non_utf8_line_in_a_utf8_file_is_still_read() -> None:
    """One line in another encoding does not stop the file."""
    data = "Name\r\nZoë\r\n".encode() + "Jos\xe9\r\n".encode("latin-1")
    _, records = read_all(data)
    assert [r.values["Name"] for r in records] == ["Zoë", "José"]


def test_header_spaces_blank_names_and_bom() -> None:
    """Stray spaces are trimmed, blank header names are named, the BOM is not in a name."""
    reader, _ = read_all(b"\xef\xbb\xbf  First Name , ,Email\r\n")
    assert reader.columns == ["First Name", "column 2", "Email"]


def test_duplicate_header_names_are_a_clear_error() -> None:
    """Two columns with one name: an error naming the name and both positions."""
    with pytest.raises(SourceError, match=r"'Email' \(columns 2, 4\)"):
        read_all(b"Name,Email,Phone,email\r\n")


def test_ragged_rows_are_rejected_and_the_rest_go_on() -> None:
    """A row with too few or too many cells is an error record; empty trailing cells are fine."""
    data = b"A,B,C\r\n1,2,3\r\n1,2\r\n1,2,3,4\r\n1,2,3,,\r\n\r\n7,8,9\r\n"
    _, records = read_all(data)
    assert [r.rowno for r in records] == [1, 2, 3, 4, 5]  # the blank line is not a record
    assert [r.error is None for r in records] == [True, False, False, True, True]
    assert "2 fields, the header has 3" in str(records[1].error)
    assert records[3].values == {"A": "1", "B": "2", "C": "3"}


def test_nul_bytes_and_long_fields() -> None:
    """NUL bytes vanish; a 1 MB cell is read whole."""
    long = "x" * 1_000_000
    _, records = read_all(b"A,B\r\na\x00b," + long.encode() + b"\r\n")
    assert records[0].values == {"A": "ab", "B": long}


def test_an_empty_file_has_no_header() -> None:
    """Nothing to import is a clear error, not a crash."""
    with pytest.raises(SourceError, match="no header"):
        read_all(b"\r\n\r\n")


@given(st.lists(st.lists(st.from_regex(r"[a-z@.]{1,8}", fullmatch=True), min_size=3, max_size=3),
                min_size=2, max_size=10), st.sampled_from(",;\t|"))
def test_detection_on_plain_data(rows: list[list[str]], delimiter: str) -> None:
    """Cells free of delimiter characters: the delimiter is always found."""
    text = csv_bytes(rows, delimiter=delimiter).decode()
    assert detect_delimiter(text) == delimiter
