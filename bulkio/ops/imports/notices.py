"""What an import says once, at its end and in --dry-run: every choice bulkio made for the user.

How the file was read (format, encoding, delimiter), what the header and the mapping decided
(a repeated column name, a second column for a field, a full name split), and how many rows
the reader had to interpret (padded, a stray quote kept as typed, a line in another encoding,
a second value not sent as its field), each with its first row, so it can be looked at.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...formats.mapping import ColumnMap
from ...sources.records import RecordSource

#: (kind, detail, rows, first row, its line) as the journal counts them
NoteCount = tuple[str, str, int, int, int]


def column_notices(reader: RecordSource, columns: ColumnMap, *, unmapped_to_notes: bool) -> list[str]:
    """What the header and the mapping decided, known before any row is read."""
    said = []
    for name, positions in reader.repeated_names:
        labels = [reader.columns[p - 1] for p in positions]
        said.append(f"the header names {name!r} {_times(len(positions))} (columns "
                    f"{_and(map(str, positions))}): read as {_and(map(repr, labels))}")
    keep = ("a different value in it is kept in notes" if unmapped_to_notes
            else "a different value in it is dropped (--unmapped notes keeps it in notes)")
    for target, feeding in columns.plan(reader.columns).items():
        if target == "fullName":
            said.append(f"{feeding[0]!r} is split into first and last name where those are empty "
                        "(the last word is the last name)")
        elif len(feeding) > 1:
            said.append(f"{_and(map(repr, feeding[1:]))} also feed{'s' if len(feeding) == 2 else ''} "
                        f"{target}, used where {feeding[0]!r} is empty; {keep}")
    return said


def row_notices(notes: Iterable[NoteCount], *, empty_rows: int, unmapped_to_notes: bool,
                rows_read: int | None = None) -> list[str]:
    """The rows the reader or the mapping interpreted, counted by what was done; and a file
    read to its end (`rows_read` known) that held no row at all."""
    said = []
    for kind, detail, rows, first, line in notes:
        where = f"(the first: row {first}, line {line})" if line else f"(the first: row {first})"
        if kind == "padded":
            said.append(f"{_rows(rows)} fewer cells than the header: the missing cells were read "
                        f"as empty {where}")
        elif kind == "quotes":
            said.append(f"{_rows(rows)} a quote in {detail!r} that was neither doubled nor "
                        f"closing: kept as typed {where}; each is listed in the job's log")
        elif kind == "encoding":
            said.append(f"{_rows(rows)} a line that is not in the file's encoding: read as "
                        f"{detail} {where}")
        elif kind == "damaged":
            said.append(f"the file ends early, in row {first} (line {line}): {detail}; the "
                        "rows after it are missing: import a complete copy of the file (the rows "
                        "already imported are then skipped as duplicates)")
        elif kind == "nul":
            cell = f" in {detail!r}" if detail else ""
            said.append(f"{_rows(rows)} NUL bytes{cell}: removed (the API cannot store them) "
                        f"{where}")
        elif kind == "spare":
            fate = "kept in notes" if unmapped_to_notes else "dropped (--unmapped notes keeps it)"
            said.append(f"{_rows(rows)} a second value in {detail!r} besides the one sent: "
                        f"{fate} {where}")
    if empty_rows:
        said.append(f"{empty_rows:,} row{'s' if empty_rows != 1 else ''} with no value at all "
                    "(only delimiters, spaces or NUL bytes) skipped")
    if rows_read == 0:
        said.append("the file holds no rows after its header")
    return said


def _rows(count: int) -> str:
    return f"{count:,} rows had" if count != 1 else "1 row had"


def _and(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _times(count: int) -> str:
    return {2: "twice", 3: "three times"}.get(count, f"{count} times")
