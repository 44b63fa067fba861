"""The input side of an import: a source's records, mapped, sanitised and noted, as the journal
admits them; and what the reading decided for the user, said once at the end.

Shared by the import itself and by its dry run, so the two never read a file differently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import anyio
import orjson

from ...formats.mapping import INTERNAL, ColumnMap, describe, load_mapping, mapping_of
from ...formats.sanitize import Built, LeadBuilder
from ...sources.records import AsyncRecordReader, Record, RecordReader
from ...store.import_journal import Admission
from ...store.listing_checks import signature
from .job import ImportOptions
from .notices import NoteCount, column_notices, row_notices

log = logging.getLogger("bulkio.import")
NOTES = "notes (a line each)"


class ImportInput:
    """Reads records and prepares them for the client given to `for_client`.

    The --mapping is loaded and checked against the header at once (a ConfigError before
    anything is sent). `empty_before` counts the rows of no value that the job's earlier runs
    skipped (the reader counts those of this run). A file is read in a worker thread (with
    the mapping, in one hop); a HubSpot source is awaited.
    """

    def __init__(self, reader: RecordReader | AsyncRecordReader, options: ImportOptions) -> None:
        self.reader = reader
        self.options = options
        self.empty_before = 0
        self.to_notes = (reader.unmapped_to_notes if options.unmapped_to_notes is None
                         else options.unmapped_to_notes)
        self.columns: ColumnMap = (load_mapping(options.mapping) if options.mapping_data is None
                                   else mapping_of(options.mapping_data))
        self.columns.labels = {**reader.labels, **options.notes_columns}
        if reader.names is not None:  # a CSV header: labels, names and positions
            self.columns.bind(reader.columns, reader.names)
        self.columns.check_columns(reader.columns, complete=reader.names is not None)
        self.builder = self.for_client("")
        self.refused_emails: dict[str, str] = {}  # --validate-emails: address -> why refused

    def for_client(self, slug: str) -> LeadBuilder:
        """Build payloads for this client from now on."""
        self.builder = LeadBuilder(self.columns, slug, allow_no_email=self.options.allow_no_email,
                                   unmapped_to_notes=self.to_notes,
                                   notes_columns=frozenset(self.options.notes_columns))
        return self.builder

    async def next_prepared(self, size: int) -> tuple[list[tuple[Admission, Built | None]],
                                                      dict[str, Any]]:
        """Up to `size` records, mapped and sanitised; and the position after them."""
        if self.reader.is_async:
            records = await self.reader.read_batch(size)
            return [self.prepare(r) for r in records], self.position()
        return await anyio.to_thread.run_sync(self.read_prepared, size)

    def read_prepared(self, size: int) -> tuple[list[tuple[Admission, Built | None]],
                                                dict[str, Any]]:
        """A file's records, read, mapped and sanitised together (in a worker thread)."""
        assert not self.reader.is_async
        records = self.reader.read_batch(size)
        for record in records:
            for kind, column in record.notes:
                if kind == "quotes":  # the job's log lists every repair
                    log.info("row %d (line %d): a quote in %r was neither doubled nor closing; "
                             "kept as typed", record.rowno, record.line, column)
        return [self.prepare(r) for r in records], self.position()

    async def resume(self, meta: Mapping[str, Any]) -> None:
        """Continue after the records an earlier run admitted (the journal's `meta`)."""
        rowno = int(meta["rowno"])
        if self.reader.is_async:
            await self.reader.resume(meta, rowno)
        else:
            await anyio.to_thread.run_sync(self.reader.resume_at, int(meta["offset"]), rowno,
                                           int(meta.get("line", 0)))

    def prepare(self, record: Record) -> tuple[Admission, Built | None]:
        """A record as the journal admits it, with its payload when it has one."""
        raw = orjson.dumps(record.raw).decode()
        if record.values is None:
            return Admission(record.rowno, None, raw, error=record.error, notes=record.notes,
                             line=record.line, key=record.key), None
        built = self.builder.build(record.values)
        notes = (*record.notes, *(("spare", column) for column in built.spare),
                 *(("nul", column) for column in built.nul))
        error = built.error
        if error is not None and isinstance(record.raw, list):
            error += delimiter_hint(record.raw, getattr(self.reader, "delimiter", ","),
                                    len(self.reader.columns))
        if error is None and built.email_key in self.refused_emails:
            error = self.refused_emails[built.email_key]
        if error is not None:
            return Admission(record.rowno, built.email_key, raw, error=error, notes=notes,
                             line=record.line, key=record.key), None
        return Admission(record.rowno, built.email_key, raw, notes=notes, line=record.line,
                         key=record.key, sig=signature(built.payload or {})), built

    def rebuild(self, raw: str) -> Built:
        """The payload of a journalled row again (a re-send), from its record as admitted."""
        value = orjson.loads(raw)
        if isinstance(value, list):
            values: Any = dict(zip(self.reader.columns, value, strict=False))
        else:
            values = orjson.loads(value)
        return self.builder.build(values)

    @property
    def empty_rows(self) -> int:
        return self.empty_before + self.reader.empty_rows

    def position(self) -> dict[str, Any]:
        """Where the records read so far end: what the journal keeps to resume from."""
        if self.reader.is_async:
            return self.reader.position()
        return {"offset": self.reader.offset, "line": self.reader.line,
                "empty_rows": self.empty_rows}

    def notices(self, notes: list[NoteCount], *, rows_read: int | None) -> list[str]:
        """Every choice made for the user: the header's, the mapping's, the rows' (`notes`, as
        the journal counts them); `rows_read` once the whole file is read."""
        to_notes = self.to_notes
        return [*column_notices(self.reader, self.columns, unmapped_to_notes=to_notes),
                *row_notices(notes, empty_rows=self.empty_rows, unmapped_to_notes=to_notes,
                             rows_read=rows_read)]

    def mapping(self) -> dict[str, str | None]:
        """column -> field, for display ("notes" for a column kept there as a line)."""
        return {column: target or (NOTES if self.to_notes and column not in INTERNAL else None)
                for column, target in describe(self.columns, self.reader.columns).items()}

    def unmapped(self) -> list[str]:
        """Columns whose values are not imported at all (not even to notes)."""
        return [] if self.to_notes else self.columns.unmapped(self.reader.columns)


def delimiter_hint(cells: list[str], delimiter: str, width: int) -> str:
    """Why a refused CSV row may look empty: it is separated by another delimiter than the
    file's (`bob@example.com;Bob;Ng` in a comma file). Said in the row's reason, or nothing."""
    line = delimiter.join(cells)
    for other in (";", "\t", "|", ","):
        if other != delimiter and line.count(other) + 1 >= max(2, width - 1) \
                and sum(1 for c in cells if c.strip()) <= 1:
            shown = "tab" if other == "\t" else repr(other)
            return (f" (the row looks separated by {shown}, in {line.count(other) + 1} cells, "
                    f"where the file uses {'tab' if delimiter == chr(9) else repr(delimiter)})")
    return ""
