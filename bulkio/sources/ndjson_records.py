"""NDJSON (JSON Lines) records, streamed: one object per line, anything else an error.

UTF-8, as JSON is; a UTF-16 or UTF-32 file (what PowerShell's Out-File writes) is transcoded.
"""

from __future__ import annotations

from typing import BinaryIO, Literal

import orjson

from .records import Record
from .sniff import utf16_or_32
from .text import LINE_LIMIT, Transcoded, split_raw


class NdjsonRecords:
    format = "ndjson"
    is_async: Literal[False] = False
    unmapped_to_notes = False
    labels: dict[str, str] = {}  # noqa: RUF012 - read only: a key is its own label
    names = None
    empty_rows = 0  # a blank line is not a row

    def __init__(self, stream: BinaryIO, *, sample: bytes = b"") -> None:
        self._stream = stream
        self._wide = utf16_or_32(sample)
        self.offsets_in_file = self._wide is None  # else offsets count the UTF-8 copy
        self._lines = split_raw(Transcoded(stream, self._wide, sample) if self._wide else stream,
                                b"" if self._wide else sample)
        self._consumed = self._offset = 0
        self._rowno = self.line = 0
        self._first = True
        self.columns: list[str] = []
        self.repeated_names: list[tuple[str, list[int]]] = []
        self._seen: set[str] = set()

    @property
    def offset(self) -> int:
        return self._offset

    def read_batch(self, size: int) -> list[Record]:
        batch: list[Record] = []
        for raw, length, problem, detail in self._lines:
            self._consumed += length
            self._offset = self._consumed
            self.line += 1
            if self._first:
                self._first = False
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            data = raw.strip()
            if not data and problem is None:
                continue
            self._rowno += 1
            text = data.decode("utf-8", errors="backslashreplace")
            if problem == "overlong":
                batch.append(self._error(text, f"line {self.line} is {detail} long, over the "
                                               f"limit of {LINE_LIMIT >> 20} MB for one line"))
            elif problem == "damaged":
                batch.append(self._error(text, f"the file's data ends in this line ({detail}): "
                                               "any lines after it are missing; import a "
                                               "complete copy of the file",
                                         notes=(("damaged", detail),)))
            else:
                batch.append(self._parse(data, text))
            if len(batch) >= size:
                break
        return batch

    def _error(self, text: str, error: str, notes: tuple[tuple[str, str], ...] = ()) -> Record:
        return Record(self._rowno, None, text, error, line=self.line, notes=notes)

    def _parse(self, data: bytes, text: str) -> Record:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            return self._error(text, f"not valid JSON: {exc}")
        if not isinstance(value, dict):
            return self._error(text, f"the line is a JSON {type(value).__name__}, not an object")
        for key in value:
            if key not in self._seen:
                self._seen.add(key)
                self.columns.append(key)
        return Record(self._rowno, value, text, line=self.line)

    def resume_at(self, offset: int, rowno: int, line: int = 0) -> None:
        """Continue after record `rowno`, which ended at byte `offset` and on line `line`."""
        if self._stream.seekable() and self.offsets_in_file:
            self._stream.seek(offset)
            self._consumed = self._offset = offset
            self._lines = split_raw(self._stream)
            self._rowno, self.line = rowno, line
            self._first = offset == 0
            return
        while self._rowno < rowno:
            if not self.read_batch(min(1000, rowno - self._rowno)):
                return

    def describe(self) -> str:
        return f"NDJSON (one JSON object a line, {(self._wide or 'utf-8').upper()})"

    def close(self) -> None:
        self._stream.close()
