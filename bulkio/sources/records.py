"""What a reader yields: one input record, with its number, values and original form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

#: What a reader may note on a record it read (kind -> what the detail is):
#:   padded    a short row's missing cells were read as empty ("")
#:   quotes    a stray quote was kept as typed (the column)
#:   encoding  a line not in the file's encoding was read in another (that encoding)
#:   damaged   the file's data ends in this record: the rest of the file is missing (why)
Note = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Record:
    """One data record. `values` is None when the record could not be read (`error` says why).

    `raw` is the record as it was: the list of CSV cells, or the NDJSON line; rejects files are
    written from it, in the input's own format.
    """

    rowno: int  # 1-based, data records only (the header and blank lines do not count)
    values: dict[str, Any] | None
    raw: list[str] | str
    error: str | None = None
    line: int = 0  # the physical line it starts on, the header's included
    notes: tuple[Note, ...] = ()  # what the reader decided for the user on this record
    key: str | None = None  # the source's own id for it (a HubSpot contact id, a lead guid)


class RecordSource(Protocol):
    """What every reader tells about its records (files and HubSpot alike)."""

    format: str  # "csv" or "ndjson": the rejects file is written in it
    columns: list[str]  # unique labels, known so far (NDJSON: keys seen in the first records)
    #: Columns that map to no field go to notes unless the user says (HubSpot: its extra
    #: properties, the guide's "Label: value" lines); a file's are dropped unless asked.
    unmapped_to_notes: bool

    @property
    def names(self) -> list[str] | None:
        """A CSV header's names, in order (the labels in `columns` are unique; names may not be)."""
        ...

    @property
    def labels(self) -> dict[str, str]:
        """How a column is named for people, where not by itself (a notes line's label)."""
        ...

    @property
    def repeated_names(self) -> list[tuple[str, list[int]]]:
        """Header names given more than once, with their 1-based positions."""
        ...

    @property
    def empty_rows(self) -> int:
        """Rows with no value at all, skipped (since the start, or the resume point)."""
        ...

    def describe(self) -> str:
        """How the source is read, for people ("CSV, UTF-8, separated by commas")."""
        ...


class RecordReader(RecordSource, Protocol):
    """A file's records, read in a worker thread; its position is a byte offset."""

    is_async: Literal[False]

    @property
    def offsets_in_file(self) -> bool:
        """`offset` counts the file's bytes (not those of a transcoded copy)."""
        ...

    def read_batch(self, size: int) -> list[Record]:
        """Up to `size` records; an empty list at the end."""
        ...

    @property
    def offset(self) -> int:
        """Bytes of the source consumed by the records returned so far."""
        ...

    @property
    def line(self) -> int:
        """The last physical line consumed by the records returned so far."""
        ...

    def resume_at(self, offset: int, rowno: int, line: int = 0) -> None:
        """Continue after record `rowno`, which ended at byte `offset` and on line `line`."""
        ...

    def close(self) -> None: ...


class AsyncRecordReader(RecordSource, Protocol):
    """Records fetched over the network (HubSpot): each record has its source id as `key`, so
    a position may be coarse (a page's cursor): what is read again is dropped as a repeat."""

    is_async: Literal[True]

    async def read_batch(self, size: int) -> list[Record]:
        """Up to `size` records; an empty list at the end."""
        ...

    def position(self) -> dict[str, Any]:
        """Where to resume from (JSON values), after the records returned so far."""
        ...

    async def resume(self, position: Mapping[str, Any], rowno: int) -> None:
        """Continue from a saved `position`; the next record is numbered `rowno + 1`."""
        ...


class ImportSource(Protocol):
    """An opened source as an import sees it: a file (`files.Source`) or HubSpot."""

    name: str  # the path as given, "-", or hubspot:<kind>
    format: str  # "csv" or "ndjson": the rejects file's

    @property
    def reader(self) -> RecordReader | AsyncRecordReader: ...

    def fingerprint(self) -> dict[str, Any]:
        """What must not change between a run and its --resume."""
        ...

    def fraction_read(self) -> float | None:
        """How far through the source the reader is, when that can be told."""
        ...

    def notices(self) -> list[str]:
        """What the source itself has to say at the end (HubSpot: its requests)."""
        ...
