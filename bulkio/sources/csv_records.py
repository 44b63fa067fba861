"""CSV records, streamed: header checks, delimiter detection, ragged rows as errors."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import SourceError
from .records import Record
from .text import SAMPLE, LineDecoder, detect_encoding, iter_raw_lines

DELIMITERS = ",;\t|"
FIELD_LIMIT = 16 * 1024 * 1024  # one cell may be long, not unbounded


def detect_delimiter(sample: str) -> str:
    """The candidate that splits the first lines into the most consistent, widest rows."""
    lines = sample.splitlines(keepends=True)[:50]
    if len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut short
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO("".join(lines)), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistency = sum(len(r) == width for r in rows) / len(rows)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def clean_header(names: list[str]) -> list[str]:
    """Trim names and name the blank ones; a SourceError naming any duplicates."""
    cleaned = [n.strip() or f"column {i + 1}" for i, n in enumerate(names)]
    counts = Counter(n.casefold() for n in cleaned)
    duplicates = [n for n in dict.fromkeys(cleaned) if counts[n.casefold()] > 1]
    if duplicates:
        def positions(name: str) -> str:
            return ", ".join(str(i + 1) for i, n in enumerate(cleaned) if n.casefold() == name.casefold())

        where = "; ".join(f"{d!r} (columns {positions(d)})" for d in duplicates)
        raise SourceError(f"the header names a column twice: {where}; rename one, "
                          "or fix the header row")
    return cleaned


class CsvRecords:
    format = "csv"

    def __init__(self, stream: BinaryIO, *, encoding: str | None = None,
                 delimiter: str | None = None) -> None:
        csv.field_size_limit(FIELD_LIMIT)
        sample = stream.read(SAMPLE)
        self.encoding = encoding or detect_encoding(sample)
        self._decoder = LineDecoder(self.encoding)
        self._stream = stream
        self._consumed = 0
        self._lines = self._decoded(iter_raw_lines(stream, sample))
        if delimiter is None:
            preview = sample.decode(self._decoder.encoding, errors="replace").removeprefix("\ufeff")
            delimiter = detect_delimiter(preview)
        self.delimiter = delimiter
        self._reader = csv.reader(self._lines, delimiter=delimiter)
        self.columns = self._read_header()
        self._rowno = 0
        self._offset = self._consumed

    def _decoded(self, raw_lines: Iterator[bytes]) -> Iterator[str]:
        for raw in raw_lines:
            self._consumed += len(raw)
            yield self._decoder.decode(raw)

    def _read_header(self) -> list[str]:
        for row in self._reader:
            if any(cell.strip() for cell in row):
                return clean_header(row)
        raise SourceError("the file has no header row (it is empty)")

    @property
    def offset(self) -> int:
        return self._offset

    @property
    def fallback_lines(self) -> int:
        return self._decoder.fallbacks

    def read_batch(self, size: int) -> list[Record]:
        batch: list[Record] = []
        width = len(self.columns)
        while len(batch) < size:
            try:
                row = next(self._reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self._rowno += 1
                batch.append(Record(self._rowno, None, [], f"unreadable CSV record: {exc}"))
                self._offset = self._consumed
                continue
            self._offset = self._consumed
            if not row:
                continue  # a blank line is not a record (a line of spaces is, and says so)
            self._rowno += 1
            if len(row) > width and not any(c.strip() for c in row[width:]):
                row = row[:width]  # trailing delimiters: empty extra cells are harmless
            if len(row) != width:
                batch.append(Record(self._rowno, None, row,
                                    f"the row has {len(row)} fields, the header has {width}"))
                continue
            batch.append(Record(self._rowno, dict(zip(self.columns, row, strict=True)), row))
        return batch

    def resume_at(self, offset: int, rowno: int) -> None:
        """Continue after record `rowno`, which ended at byte `offset`: seek when the source
        can, else read past the records already done."""
        if self._stream.seekable():
            self._stream.seek(offset)
            self._consumed = self._offset = offset
            self._lines = self._decoded(iter_raw_lines(self._stream))
            self._reader = csv.reader(self._lines, delimiter=self.delimiter)
            self._rowno = rowno
            return
        while self._rowno < rowno:
            if not self.read_batch(min(1000, rowno - self._rowno)):
                return

    def close(self) -> None:
        self._stream.close()
