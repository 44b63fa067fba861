"""The CSV reader against files as people have them; round trips by hypothesis."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from typing import Any, Literal

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from bulkio.errors import SourceError
from bulkio.sources.csv_fields import RecordSplitter
from bulkio.sources.csv_records import CsvRecords, detect_delimiter
from bulkio.sources.gzipped import GzipStream
from bulkio.sources.records import Record

CELL = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
BREAK = re.compile(r"\r\n|\r|\n")


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", terminator: str = "\r\n",
              encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO()
    # csv.writer quotes only the line-ending characters of its own terminator; a file ending
    # lines in \r (or \n) with a bare \n (or \r) in a cell is ambiguous, so quote every cell.
    quoting: Literal[0, 1] = csv.QUOTE_MINIMAL if terminator == "\r\n" else csv.QUOTE_ALL
    csv.writer(buffer, delimiter=delimiter, lineterminator=terminator,
               quoting=quoting).writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


def read_all(data: bytes, **kwargs: Any) -> tuple[CsvRecords, list[Record]]:
    reader = CsvRecords(io.BytesIO(data), **kwargs)
    records = []
    while batch := reader.read_batch(7):
        records += batch
    return reader, records


def values(records: list[Record]) -> list[dict[str, object] | None]:
    return [r.values for r in records]


def ambiguous(rows: list[list[str]], width: int, delimiter: str) -> bool:
    """A cell with a line inside it that is, on its own, a record of the header's width: the
    one case where an unterminated quote cannot be told from a quoted line break, and bulkio
    reads it as an unterminated quote (issue 10)."""
    splitter = RecordSplitter(iter(()), delimiter)
    splitter.width = width
    for row in rows:
        for cell in row:
            inner = BREAK.split(cell.replace('"', '""'))[1:-1]
            if any(splitter.looks_like_record(segment) for segment in inner):
                return True
    return False


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
    """Whatever csv.writer wrote, the reader gives back: cells, quotes, newlines, any ending;
    rows with no value at all are skipped and counted."""
    names, rows = table
    assume(not ambiguous(rows, len(names), delimiter))
    data = csv_bytes([names, *rows], delimiter=delimiter, terminator=terminator, bom=bom)
    reader, records = read_all(data, delimiter=delimiter)
    kept = [row for row in rows if any(cell.strip() for cell in row)]
    assert reader.columns == [n.strip() for n in names]
    assert [(r.error, r.notes) for r in records] == [(None, ())] * len(records)
    assert [list(r.values.values()) for r in records if r.values] == kept
    assert [r.rowno for r in records] == list(range(1, len(kept) + 1))
    assert reader.empty_rows == len(rows) - len(kept)
    assert reader.offset == len(data)


@settings(max_examples=80, deadline=None)
@given(tables(), st.integers(min_value=0, max_value=20))
def test_resume_at_a_checkpoint_continues_exactly(table: tuple[list[str], list[list[str]]],
                                                   cut: int) -> None:
    """Seeking to a record's end offset (and line) yields exactly the records after it."""
    names, rows = table
    assume(not ambiguous(rows, len(names), ","))
    data = csv_bytes([names, *rows])
    reader = CsvRecords(io.BytesIO(data), delimiter=",")
    first = reader.read_batch(cut)
    offset, line, rowno = reader.offset, reader.line, (first[-1].rowno if first else 0)
    resumed = CsvRecords(io.BytesIO(data), delimiter=",")
    resumed.resume_at(offset, rowno, line)
    rest = []
    while batch := resumed.read_batch(5):
        rest += batch
    assert values(first + rest) == [dict(zip(reader.columns, row, strict=True)) for row in rows
                                    if any(c.strip() for c in row)]
    everything = read_all(data, delimiter=",")[1]
    assert [r.line for r in first + rest] == [r.line for r in everything]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_detection(delimiter: str) -> None:
    """Comma, semicolon, tab and pipe files are told apart from their first lines."""
    rows = [["First Name", "Email", "Company"], ["Ada", "ada@x.com", "Engines, Ltd"],
            ["Alan", "alan@x.com", "Bletchley"]]
    reader, records = read_all(csv_bytes(rows, delimiter=delimiter))
    assert reader.delimiter == delimiter
    assert records[0].values == {"First Name": "Ada", "Email": "ada@x.com", "Company": "Engines, Ltd"}


def test_windows_1252_falls_back_and_encoding_can_be_forced() -> None:
    """Not UTF-8: read as Windows-1252 (curly quotes, accents), and said; --encoding overrides."""
    data = "Name,Note\r\nJosé,“quoted”\r\n".encode("cp1252")
    reader, records = read_all(data)
    assert reader.encoding.codec == "cp1252" and "Windows-1252" in reader.describe()
    assert records[0].values == {"Name": "José", "Note": "“quoted”"}
    forced, records = read_all("Name\r\nZoë\r\n".encode("latin-1"), encoding="latin-1")
    assert records[0].values == {"Name": "Zoë"} and "--encoding" in forced.describe()


def test_a_stray_non_utf8_line_in_a_utf8_file_is_read_and_noted() -> None:
    """One line in another encoding does not stop the file; the row says how it was read."""
    data = "Name\r\nZoë\r\n".encode() + "Jos\xe9\r\n".encode("latin-1")
    _, records = read_all(data)
    assert [r.values["Name"] for r in records if r.values] == ["Zoë", "José"]
    assert [r.notes for r in records] == [(), (("encoding", "Windows-1252"),)]
    assert records[1].line == 3


def test_a_line_the_given_encoding_cannot_read_is_rejected_not_guessed() -> None:
    """--encoding utf-8 is honoured: a line that is not UTF-8 is rejected with the reason."""
    data = "Name\r\nZoë\r\n".encode() + "Jos\xe9\r\nAl\r\n".encode("latin-1")
    _, records = read_all(data, encoding="utf-8")
    assert values(records) == [{"Name": "Zoë"}, None, {"Name": "Al"}]
    assert "line 3 is not valid utf-8" in str(records[1].error)
    assert records[1].raw == ["Jos\\xe9"]


def test_header_spaces_blank_names_and_bom() -> None:
    """Stray spaces are trimmed, blank header names are named, the BOM is not in a name."""
    reader, _ = read_all(b"\xef\xbb\xbf  First Name , ,Email\r\n")
    assert reader.columns == ["First Name", "column 2", "Email"]


@pytest.mark.parametrize(("header", "labels"), [
    (b"name,Email,Email", ["name", "Email", "Email 2"]),
    (b"email,Email", ["email", "Email 2"]),
    (b"Email,Email 2,Email", ["Email", "Email 2", "Email (column 3)"]),
])
def test_repeated_header_names_are_read_like_email_1_and_email_2(header: bytes,
                                                                   labels: list[str]) -> None:
    """A repeated name does not abort the file: the columns keep their order under labels
    that say which is which, and the reader reports the name and its positions."""
    cells = ["a", "b", "c"][: len(labels)]
    reader, records = read_all(header + b"\n" + ",".join(cells).encode() + b"\n")
    assert reader.columns == labels and reader.names == [n.strip() for n in header.decode().split(",")]
    assert reader.repeated_names and reader.repeated_names[0][1] == [
        i + 1 for i, n in enumerate(reader.names) if n.casefold() == reader.repeated_names[0][0].casefold()]
    assert records[0].values == dict(zip(labels, cells, strict=True))


def test_short_rows_are_padded_and_long_ones_rejected_unless_the_surplus_is_empty() -> None:
    """The issue's short row under an 8-column header is read with empty trailing cells (and
    noted); a row with more cells than the header is rejected unless the extra ones are empty."""
    header = b"First Name,Last Name,Email,Phone,Company,Title,Website,Notes\n"
    data = header + b"Ivan,Petrov,ivan@x.org\n1,2,3,4,5,6,7,8,9\n1,2,3,4,5,6,7,8,,\n"
    _, records = read_all(data)
    assert records[0].values == {"First Name": "Ivan", "Last Name": "Petrov", "Email": "ivan@x.org",
                                 "Phone": "", "Company": "", "Title": "", "Website": "", "Notes": ""}
    assert records[0].notes == (("padded", ""),) and records[0].raw == ["Ivan", "Petrov", "ivan@x.org"]
    assert records[1].values is None
    assert "the row has 9 cells, the header has 8: the extra cells hold '9'" in str(records[1].error)
    assert records[2].values is not None and records[2].notes == ()


def test_rows_of_delimiters_are_skipped_and_counted_blank_lines_are_not_rows() -> None:
    """`,,,` and a line of spaces are counted as empty rows; an empty line is not a row."""
    reader, records = read_all(b"A,B,C\r\n1,2,3\r\n,,\r\n\r\n   \r\n7,8,9\r\n")
    assert [r.rowno for r in records] == [1, 2] and [r.line for r in records] == [2, 6]
    assert reader.empty_rows == 2


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


# -- quotes (issue 10, items 1 and 2) ------------------------------------------------------------

UNTERMINATED = (b'name,email,notes\n'
                b'Alice Smith,alice@example.com,"Started import yesterday\n'
                b'Bob Jones,bob@example.com,Valid row\n'
                b'Cara Lee,cara@example.com,ok\n')


def test_an_unterminated_quote_rejects_its_line_and_the_following_rows_are_read() -> None:
    """The issue's file: Alice's line is rejected with the reason and its line number; Bob and
    Cara are read as they are."""
    _, records = read_all(UNTERMINATED)
    assert [r.rowno for r in records] == [1, 2, 3] and [r.line for r in records] == [2, 3, 4]
    assert records[0].values is None
    assert records[0].raw == ["Alice Smith", "alice@example.com", "Started import yesterday"]
    error = str(records[0].error)
    assert error.startswith("unterminated quote") and "'notes'" in error and "line 2" in error
    assert values(records[1:]) == [
        {"name": "Bob Jones", "email": "bob@example.com", "notes": "Valid row"},
        {"name": "Cara Lee", "email": "cara@example.com", "notes": "ok"}]


def test_an_unterminated_quote_in_the_middle_of_2000_rows_loses_nothing() -> None:
    """A stray quote at row 1,000 (which the csv module merged with the rows up to the next
    quote): every one of the 2,000 rows is read, one rejected, the others exactly."""
    rows = [[f"P{i}", f"p{i}@example.com", f'said "hi" to {i}' if i % 7 == 0 else f"note {i}"]
            for i in range(2000)]
    data = csv_bytes([["name", "email", "notes"], *rows])
    data = data.replace(b",note 1000\r\n", b',"note 1000\r\n')  # a quote that never closes
    _reader, records = read_all(data)
    assert len(records) == 2000
    assert [r.rowno for r in records if r.error] == [1001]
    assert "line 1002" in str(records[1000].error)
    good = [r for r in records if r.values]
    assert [r.values["email"] for r in good if r.values] == [f"p{i}@example.com" for i in range(2000)
                                                             if i != 1000]
    assert records[1008].values == {"name": "P1008", "email": "p1008@example.com",
                                    "notes": 'said "hi" to 1008'}


def test_a_quote_open_at_the_end_of_the_file_is_unterminated_too() -> None:
    """No line after it looks like a record (they are ragged): the end of the file decides; the
    lines after the quote are read again as rows of their own."""
    _, records = read_all(b'a,b,c\n1,2,"three\nx\ny\n')
    assert values(records) == [None, {"a": "x", "b": "", "c": ""}, {"a": "y", "b": "", "c": ""}]
    assert "the file ends inside it" in str(records[0].error)


def test_quoted_line_breaks_still_work() -> None:
    """A field with legitimate line breaks (as in samples/) is one cell, of every ending."""
    data = b'Email,Notes,Stage\r\na@x.com,"Met at ""SaaStr"", said: call back\r\nafter Q3",lead\r\n'
    _, records = read_all(data)
    assert values(records) == [{"Email": "a@x.com", "Stage": "lead",
                                "Notes": 'Met at "SaaStr", said: call back\r\nafter Q3'}]
    _, records = read_all(b'A,B\n"one\rtwo\n\nthree",x\n')
    assert values(records) == [{"A": "one\rtwo\n\nthree", "B": "x"}]


def test_stray_inner_quotes_are_kept_as_typed_and_noted() -> None:
    """The issue's row: the text stays as the person typed it, and the row says it was repaired;
    a quote inside an unquoted cell is kept too (no repair: it is unambiguous)."""
    data = b'a,b,c\na,"He said "clean the file first" yesterday",c\nx,5\'11" tall,z\n'
    _, records = read_all(data)
    assert records[0].values == {"a": "a", "b": 'He said "clean the file first" yesterday', "c": "c"}
    assert records[0].notes == (("quotes", "b"),)
    assert records[1].values == {"a": "x", "b": "5'11\" tall", "c": "z"} and records[1].notes == ()


def test_spaces_after_a_closing_quote_are_allowed() -> None:
    """`"abc"  ,d`: the quote closes the cell; the spaces outside it are not part of it."""
    _, records = read_all(b'A,B\n"abc"  ,d\n')
    assert values(records) == [{"A": "abc", "B": "d"}] and records[0].notes == ()


# -- encodings, line endings, separators (items 5 and 6) -----------------------------------------

def test_latin1_semicolons_and_cr_line_endings_together() -> None:
    """The issue's bytes (and with more rows, which is when the three together failed): an
    old spreadsheet export is read as four columns."""
    data = "Prénom;Nom;E-mail;Société\rJosé;Álvarez;jose@x.org;Café\r".encode("latin-1")
    for more in (b"", "Zoë;Müller;zoe@x.org;Bäckerei\rAl;Bo;al@x.org;Cie\r".encode("latin-1")):
        reader, records = read_all(data + more)
        assert reader.delimiter == ";" and reader.columns == ["Prénom", "Nom", "E-mail", "Société"]
        assert records[0].values == {"Prénom": "José", "Nom": "Álvarez", "E-mail": "jose@x.org",
                                     "Société": "Café"}
        assert len(records) == 1 + more.count(b"\r")


EXCEL_UNICODE_TEXT = "Email\tFirst Name\tCompany\r\nzoë@x.org\tZoë\tCafé, Ltd\r\nal@x.org\tAl\tÆther\r\n"


@pytest.mark.parametrize("encoded", [
    codecs.BOM_UTF16_LE + EXCEL_UNICODE_TEXT.encode("utf-16-le"),  # Excel's "Unicode Text"
    EXCEL_UNICODE_TEXT.encode("utf-16-le"),  # no BOM: told by the NUL bytes
    codecs.BOM_UTF16_BE + EXCEL_UNICODE_TEXT.encode("utf-16-be"),
    EXCEL_UNICODE_TEXT.encode("utf-32"),
], ids=["utf-16-le-bom", "utf-16-le", "utf-16-be-bom", "utf-32"])
def test_utf16_and_utf32_tab_separated(encoded: bytes) -> None:
    """UTF-16/32 by BOM or NUL pattern, tab detected as the delimiter there."""
    reader, records = read_all(encoded)
    assert reader.delimiter == "\t" and reader.columns == ["Email", "First Name", "Company"]
    assert values(records) == [{"Email": "zoë@x.org", "First Name": "Zoë", "Company": "Café, Ltd"},
                               {"Email": "al@x.org", "First Name": "Al", "Company": "Æther"}]
    assert "UTF-" in reader.describe()


def test_encoding_utf16_given_is_honoured_and_resume_reads_past() -> None:
    """--encoding utf-16 reads the file (not garbled one-field rows); such a file is not
    seekable by offset, so a resume reads past the rows already done."""
    data = codecs.BOM_UTF16_LE + EXCEL_UNICODE_TEXT.encode("utf-16-le")
    _reader, records = read_all(data, encoding="utf-16")
    assert len(records) == 2 and records[1].values == {"Email": "al@x.org", "First Name": "Al",
                                                       "Company": "Æther"}
    resumed = CsvRecords(io.BytesIO(data), encoding="utf-16")
    resumed.resume_at(records[0].line * 999, 1, records[0].line)  # the offset is not used
    assert values(resumed.read_batch(5)) == [records[1].values]


# -- limits and truncated files (item 6) ---------------------------------------------------------

def test_a_header_line_too_long_to_be_one_is_a_clear_error() -> None:
    """The issue's 50 MB first line with no line break: one clear line, not a crash."""
    with pytest.raises(SourceError, match="the first line is 52,428,800 bytes long with no line break"):
        read_all(b"a" * (50 << 20))


def test_an_overlong_data_line_is_rejected_and_reading_goes_on() -> None:
    """A 17 MB line among rows: that row is rejected with its length; the next one is read."""
    data = b"A,B\n1,2\n" + b"x" * (17 << 20) + b"\n3,4\n"
    _, records = read_all(data)
    assert values(records) == [{"A": "1", "B": "2"}, None, {"A": "3", "B": "4"}]
    assert "line 3 is 17,825,793 bytes long" in str(records[1].error)


def gz_records(data: bytes) -> list[Record]:
    reader = CsvRecords(GzipStream(io.BytesIO(data)))  # type: ignore[arg-type]
    records = []
    while batch := reader.read_batch(100):
        records += batch
    return records


def test_a_truncated_gzip_keeps_every_row_before_the_cut_and_rejects_the_cut_one() -> None:
    """The rows before the cut are read; the row cut in two is rejected with the reason."""
    rows = "".join(f"r{i}@x.org,{i}\n" for i in range(20_000))
    whole = gzip.compress(("email,n\n" + rows).encode())
    records = gz_records(whole[: len(whole) // 2])
    assert len(records) > 1000
    *good, cut = records
    assert [r.values for r in good] == [{"email": f"r{i}@x.org", "n": str(i)} for i in range(len(good))]
    assert cut.values is None and "the file is truncated" in str(cut.error)
    assert "rows after it are missing" in str(cut.error)


def test_a_truncated_gzip_cut_between_rows_still_says_so() -> None:
    """Cut just after a line ending: no row is partial, but the missing rest is a rejected row."""
    member = gzip.compress(b"email\na@x.org\n")
    # a second member that holds no complete deflate stream: the data ends early there
    damaged = member + gzip.compress(b"b@x.org\n")[:12]
    records = gz_records(damaged)
    assert values(records) == [{"email": "a@x.org"}, None]
    assert "truncated" in str(records[1].error)


def test_multi_member_gzip_is_read_whole() -> None:
    """Concatenated gzip members (as `cat a.gz b.gz`) are one stream."""
    data = gzip.compress(b"email\na@x.org\n") + gzip.compress(b"b@x.org\n")
    assert values(gz_records(data)) == [{"email": "a@x.org"}, {"email": "b@x.org"}]


def test_nul_bytes_are_removed_and_said() -> None:
    """NUL bytes cannot be stored: removed from the cell, noted on the row (the summary and
    the log say it); a line of NULs alone is a row with no value, skipped and counted."""
    reader, records = read_all(b"Email,Name\r\nada@x.com,A\x00A\r\n\x00\x00\x00\r\nbo@x.com,Bo\r\n")
    assert values(records) == [{"Email": "ada@x.com", "Name": "AA"},
                               {"Email": "bo@x.com", "Name": "Bo"}]
    assert records[0].notes == (("nul", ""),) and records[1].notes == ()
    assert reader.empty_rows == 1
