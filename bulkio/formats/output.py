"""Export output: records encoded as lines, appended in large chunks to `PATH.part`.

Each record becomes one line (NDJSON with orjson, or one CSV row); a page's lines are joined
at once and kept with each record's `id` and where its line ends, so the writer can drop a
record it has already written.

The part file is appended one chunk at a time through aiofiles (a hop to a thread per call: a
call per record would cost more than the encoding), fsynced before its checkpoint commits, and
renamed over PATH only when complete. Compressed output is a series of complete gzip members,
one per chunk (a valid .gz file), so a resumed export can cut the file at any checkpoint.
"""

from __future__ import annotations

import csv
import hashlib
import os
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import accumulate, islice
from pathlib import Path
from typing import Any, Protocol

import aiofiles
import anyio
import orjson

from ..store.files import make_dirs, private_file
from .formulas import guarded

GZIP_LEVEL = 6
GROUP = 500  # records encoded between joins: orjson gives each output a 4 KiB buffer


@dataclass(slots=True)
class Encoded:
    """A page as bytes: its records' lines joined, where each ends, and each record's id.

    Lines are joined at once (not kept one bytes object a record) so a page waiting for the
    writer costs about its own size in memory.
    """

    ids: list[str | None]  # each record's id (None when it has none)
    data: bytes
    ends: array[int]

    def without(self, dropped: Sequence[int]) -> bytes:
        """The lines of every record but the `dropped` ones (indexes, ascending)."""
        out, start, skip = [], 0, set(dropped)
        for index, end in enumerate(self.ends):
            if index not in skip:
                out.append(self.data[start:end])
            start = end
        return b"".join(out)


def _pack(records: Sequence[dict[str, Any]], line: Callable[[dict[str, Any]], bytes]) -> Encoded:
    parts: list[bytes] = []
    ends: array[int] = array("Q")
    for start in range(0, len(records), GROUP):
        lines = list(map(line, records[start:start + GROUP]))
        ends.extend(islice(accumulate(map(len, lines), initial=ends[-1] if ends else 0), 1, None))
        parts.append(b"".join(lines))
    ids = [r.get("id") for r in records]
    if set(map(type, ids)) - {str}:  # ids are text; a number or a null is the exception
        ids = [i if i is None or isinstance(i, str) else str(i) for i in ids]
    return Encoded(ids, b"".join(parts), ends)


class Encoder(Protocol):
    def header(self) -> bytes: ...
    def encode(self, records: Sequence[dict[str, Any]]) -> Encoded: ...


_ndjson_line = partial(orjson.dumps, option=orjson.OPT_APPEND_NEWLINE)


class NdjsonEncoder:
    """One JSON object a line. `keep` projects records the server did not project."""

    def __init__(self, keep: Sequence[str] | None = None) -> None:
        self.keep = tuple(dict.fromkeys(["id", *keep])) if keep else None

    def header(self) -> bytes:
        return b""

    def encode(self, records: Sequence[dict[str, Any]]) -> Encoded:
        keep = self.keep
        if keep is None:
            return _pack(records, _ndjson_line)
        return _pack(records, lambda r: _ndjson_line({k: r[k] for k in keep if k in r}))


def cell(value: Any, raw: bool = False) -> str:
    """A CSV cell: text as is (a would-be formula made inert unless `raw`: see `formulas`),
    nested values as JSON, null as empty. Numbers are numbers, never prefixed."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value if raw else guarded(value)
    return orjson.dumps(value).decode()


class _Collect(list[str]):
    """A file-like sink for csv.writer: it calls write() once per row."""

    write = list.append


class CsvEncoder:
    """One CSV row a record, with exactly `columns` (absent keys are empty cells); formula
    cells neutralised unless `raw` (see `cell`)."""

    def __init__(self, columns: Sequence[str], *, raw: bool = False) -> None:
        self.columns = tuple(columns)
        self.raw = raw
        self._rows = _Collect()
        self._writer = csv.writer(self._rows, lineterminator="\r\n")

    def header(self) -> bytes:
        return self._row([cell(c, self.raw) for c in self.columns])

    def _row(self, values: Iterable[str]) -> bytes:
        self._writer.writerow(values)
        return self._rows.pop().encode()

    def encode(self, records: Sequence[dict[str, Any]]) -> Encoded:
        columns, raw = self.columns, self.raw
        return _pack(records, lambda r: self._row([cell(r.get(c), raw) for c in columns]))


def spilled_columns(spill: Path) -> list[str]:
    """The union of the keys of an NDJSON spill file, `id` first, then in order of appearance."""
    seen: dict[str, None] = {"id": None}
    for record in read_ndjson(spill):
        seen.update(dict.fromkeys(record))
    return list(seen)


def read_ndjson(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                yield orjson.loads(line)


def spill_to_csv(spill: Path, part: Path, gzip: bool, chunk_records: int = 5000, *,
                 raw: bool = False) -> str:
    """The second pass of a CSV export without --fields: the spill's key union is the header.

    Writes `part` from scratch and fsyncs it (safe to repeat after a crash); its sha256.
    """
    encoder = CsvEncoder(spilled_columns(spill), raw=raw)
    digest = hashlib.sha256()
    with private_file(part).open("wb") as out:
        def put(data: bytes) -> None:
            data = gzip_member(data) if gzip else data
            digest.update(data)
            out.write(data)

        put(encoder.header())
        batch: list[dict[str, Any]] = []
        for record in read_ndjson(spill):
            batch.append(record)
            if len(batch) >= chunk_records:
                put(encoder.encode(batch).data)
                batch.clear()
        if batch:
            put(encoder.encode(batch).data)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def gzip_member(data: bytes) -> bytes:
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
    return compressor.compress(data) + compressor.flush()


class AppendFile:
    """A file appended in chunks, each fsynced: an export's `PATH.part`, or its id log.

    `size` is the length a checkpoint vouches for: anything after it (a chunk written before a
    crash, whose checkpoint never committed) is cut off on open. With `hashed`, a running
    sha256 of the content (the prefix is read again on a resume), so finishing a large file
    does not mean reading it all back.
    """

    def __init__(self, path: Path, *, gzip: bool = False, size: int = 0,
                 hashed: bool = False) -> None:
        self.path = path
        self.gzip = gzip
        self.size = size
        self._digest = hashlib.sha256() if hashed else None
        self._file: Any = None

    async def open(self) -> None:
        make_dirs(self.path.parent)
        if self.size and not self.path.exists():
            raise FileNotFoundError(f"{self.path} is gone: the export cannot resume; start it again")
        private_file(self.path)  # lead data: 0600, whatever the umask
        self._file = await aiofiles.open(self.path, "r+b" if self.size else "wb")
        await self._file.truncate(self.size)
        if self._digest is not None and self.size:
            await anyio.to_thread.run_sync(_hash_prefix, self.path, self.size, self._digest)
        await self._file.seek(self.size)

    async def append(self, data: bytes) -> int:
        """Write one chunk and fsync it; the new size (to checkpoint)."""
        if not data and not (self.gzip and self.size == 0):  # an empty .gz still needs a member
            return self.size
        if self.gzip:
            data = await anyio.to_thread.run_sync(gzip_member, data)
        if self._digest is not None:
            await anyio.to_thread.run_sync(self._digest.update, data)  # hashlib frees the GIL
        await self._file.write(data)
        await self._file.flush()
        await anyio.to_thread.run_sync(os.fsync, self._file.fileno())
        self.size += len(data)
        return self.size

    @property
    def sha256(self) -> str:
        assert self._digest is not None, "not a hashed file"
        return self._digest.hexdigest()

    async def close(self) -> None:
        if self._file is not None:
            await self._file.close()
            self._file = None


def _hash_prefix(path: Path, size: int, digest: Any) -> None:
    with path.open("rb") as f:
        while size > 0 and (block := f.read(min(size, 1 << 22))):
            digest.update(block)
            size -= len(block)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def finish_file(part: Path, final: Path) -> None:
    """Rename a complete, fsynced part over its final name, and make the rename durable."""
    os.replace(part, final)
    fd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
