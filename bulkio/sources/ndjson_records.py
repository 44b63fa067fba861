"""NDJSON (JSON Lines) records, streamed: one object per line, anything else an error."""

from __future__ import annotations

from typing import BinaryIO

import orjson

from .records import Record
from .text import iter_raw_lines


class NdjsonRecords:
    format = "ndjson"

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._lines = iter_raw_lines(stream)
        self._consumed = 0
        self._offset = 0
        self._rowno = 0
        self._first = True
        self.columns: list[str] = []
        self._seen: set[str] = set()

    @property
    def offset(self) -> int:
        return self._offset

    def read_batch(self, size: int) -> list[Record]:
        batch: list[Record] = []
        for raw in self._lines:
            self._consumed += len(raw)
            self._offset = self._consumed
            if self._first:
                self._first = False
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            line = raw.strip()
            if not line:
                continue
            self._rowno += 1
            text = line.decode("utf-8", errors="replace")
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                batch.append(Record(self._rowno, None, text, f"not valid JSON: {exc}"))
            else:
                if isinstance(value, dict):
                    for key in value:
                        if key not in self._seen:
                            self._seen.add(key)
                            self.columns.append(key)
                    batch.append(Record(self._rowno, value, text))
                else:
                    batch.append(Record(self._rowno, None, text,
                                        f"the line is a JSON {type(value).__name__}, not an object"))
            if len(batch) >= size:
                break
        return batch

    def resume_at(self, offset: int, rowno: int) -> None:
        """Continue after record `rowno`, which ended at byte `offset`."""
        if self._stream.seekable():
            self._stream.seek(offset)
            self._consumed = self._offset = offset
            self._lines = iter_raw_lines(self._stream)
            self._rowno = rowno
            self._first = offset == 0
            return
        while self._rowno < rowno:
            if not self.read_batch(min(1000, rowno - self._rowno)):
                return

    def close(self) -> None:
        self._stream.close()
