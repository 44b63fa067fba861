"""The input side of an import: a source's records, mapped, sanitised and noted, as the journal
admits them; and what the reading decided for the user, said once at the end.

Shared by the import itself and by its dry run, so the two never read a file differently.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from ..formats.mapping import ColumnMap, describe, load_mapping
from ..formats.sanitize import Built, LeadBuilder
from ..journal import Admission
from ..sources.records import Record, RecordReader
from .import_job import ImportOptions
from .import_notices import NoteCount, column_notices, row_notices

log = logging.getLogger("bulkio.import")


class ImportInput:
    """Reads records and prepares them for the client given to `for_client`.

    The --mapping is loaded and checked against the header at once (a ConfigError before
    anything is sent). `empty_before` counts the rows of no value that the job's earlier runs
    skipped (the reader counts those of this run).
    """

    def __init__(self, reader: RecordReader, options: ImportOptions) -> None:
        self.reader = reader
        self.options = options
        self.empty_before = 0
        self.columns: ColumnMap = load_mapping(options.mapping)
        if reader.names is not None:  # a CSV header: labels, names and positions
            self.columns.bind(reader.columns, reader.names)
        self.columns.check_columns(reader.columns, complete=reader.names is not None)
        self.builder = self.for_client("")

    def for_client(self, slug: str) -> LeadBuilder:
        """Build payloads for this client from now on."""
        self.builder = LeadBuilder(self.columns, slug, allow_no_email=self.options.allow_no_email,
                                   unmapped_to_notes=self.options.unmapped_to_notes)
        return self.builder

    def read_prepared(self, size: int) -> tuple[list[tuple[Admission, Built | None]], int]:
        """Read, map and sanitise up to `size` records (in a worker thread); and the offset."""
        records = self.reader.read_batch(size)
        for record in records:
            for kind, column in record.notes:
                if kind == "quotes":  # the job's log lists every repair
                    log.info("row %d (line %d): a quote in %r was neither doubled nor closing; "
                             "kept as typed", record.rowno, record.line, column)
        return [self.prepare(r) for r in records], self.reader.offset

    def prepare(self, record: Record) -> tuple[Admission, Built | None]:
        """A record as the journal admits it, with its payload when it has one."""
        raw = orjson.dumps(record.raw).decode()
        if record.values is None:
            return Admission(record.rowno, None, raw, error=record.error, notes=record.notes,
                             line=record.line), None
        built = self.builder.build(record.values)
        notes = (*record.notes, *(("spare", column) for column in built.spare))
        if built.error is not None:
            return Admission(record.rowno, built.email_key, raw, error=built.error, notes=notes,
                             line=record.line), None
        return Admission(record.rowno, built.email_key, raw, notes=notes, line=record.line), built

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

    def position(self) -> dict[str, int]:
        """What the journal keeps beside the reader's offset."""
        return {"line": self.reader.line, "empty_rows": self.empty_rows}

    def notices(self, notes: list[NoteCount], *, rows_read: int | None) -> list[str]:
        """Every choice made for the user: the header's, the mapping's, the rows' (`notes`, as
        the journal counts them); `rows_read` once the whole file is read."""
        to_notes = self.options.unmapped_to_notes
        return [*column_notices(self.reader, self.columns, unmapped_to_notes=to_notes),
                *row_notices(notes, empty_rows=self.empty_rows, unmapped_to_notes=to_notes,
                             rows_read=rows_read)]

    def mapping(self) -> dict[str, str | None]:
        """column -> field, for display."""
        return dict(describe(self.columns, self.reader.columns))
