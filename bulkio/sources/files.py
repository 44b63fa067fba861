"""Opening an import source: a path (.csv, .ndjson, .jsonl, optionally .gz) or stdin.

What the file really is comes from its bytes, not its name: a workbook, an archive or random
binary is refused before anything is read or sent (`sniff`), a .gz that is not gzip too.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import SourceError
from .csv_records import CsvRecords
from .gzipped import GzipStream
from .ndjson_records import NdjsonRecords
from .records import RecordReader
from .sniff import GZIP_MAGIC, SAVE_AS_CSV, what_binary
from .text import SAMPLE, choose_encoding

FINGERPRINT_BYTES = 1 << 20
FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson",
           ".json": "ndjson"}
NOT_TEXT = {".xlsx": "an Excel workbook", ".xlsm": "an Excel workbook", ".xls": "an Excel workbook",
            ".ods": "an OpenDocument spreadsheet", ".numbers": "a Numbers spreadsheet"}


@dataclass
class Source:
    """An opened input: what it is, and its record reader."""

    name: str  # the path as given, or "-" for stdin
    format: str
    compressed: bool
    size: int | None  # bytes on disk, when known
    reader: RecordReader
    raw: BinaryIO  # the file itself (compressed bytes for .gz)

    @property
    def is_stdin(self) -> bool:
        return self.name == "-"

    def fingerprint(self) -> dict[str, Any]:
        """Size and a hash of the first MiB: enough to notice a different file on resume."""
        if self.is_stdin:
            return {"stdin": True}
        path = Path(self.name)
        with path.open("rb") as f:
            head = hashlib.sha256(f.read(FINGERPRINT_BYTES)).hexdigest()
        return {"size": path.stat().st_size, "head_sha256": head}

    def notices(self) -> list[str]:
        return []

    def fraction_read(self) -> float | None:
        """How far through the file the reader is, 0..1, when the size is known."""
        if not self.size:
            return None
        exact = not self.compressed and self.reader.offsets_in_file
        position = self.reader.offset if exact else self.raw.tell()
        return min(1.0, position / self.size)

    def close(self) -> None:
        self.reader.close()
        self.raw.close()


def detect_format(name: str, explicit: str | None) -> tuple[str, bool]:
    """(format, gzip?) from the name's extensions, unless given."""
    path = Path(name)
    compressed = path.suffix.lower() == ".gz"
    inner = Path(path.stem).suffix.lower() if compressed else path.suffix.lower()
    if explicit:
        return explicit, compressed
    if name == "-":
        raise SourceError("reading stdin needs --format csv or --format ndjson")
    if inner in NOT_TEXT:
        raise SourceError(f"{name} is {NOT_TEXT[inner]}: {SAVE_AS_CSV}")
    if inner not in FORMATS:
        raise SourceError(f"cannot tell the format of {name!r} from its name; "
                          "use a .csv, .ndjson or .jsonl file (optionally .gz) or pass --format")
    return FORMATS[inner], compressed


def open_source(name: str, *, fmt: str | None = None, encoding: str | None = None,
                stdin: BinaryIO | None = None) -> Source:
    """Open `name` ("-" reads `stdin`) for reading records.

    Raises SourceError (exit 2, nothing sent) for a file that is missing, not text (saying
    what it looks like), or without a header.
    """
    fmt, compressed = detect_format(name, fmt)
    if encoding:
        choose_encoding(b"", encoding)  # an unknown encoding fails before the file is opened
    raw, size = _open_raw(name, stdin)
    path = None if name == "-" else name
    try:
        stream: BinaryIO = raw
        if compressed:  # only ever a named file: seekable
            head = raw.read(SAMPLE)
            raw.seek(0)
            if not head.startswith(GZIP_MAGIC):
                found = what_binary(head, path)
                raise SourceError(f"{name} is not gzip data" + (
                    f": it is {found}" if found else " (if it is plain text, name it without .gz)"))
            stream = GzipStream(raw)  # type: ignore[assignment]
        sample = stream.read(SAMPLE)
        found = what_binary(sample, None if compressed else path)
        if found:
            raise SourceError(f"{path or 'the standard input'} is {found}")
        if fmt == "csv":
            reader: RecordReader = CsvRecords(stream, sample=sample, encoding=encoding)
        else:
            reader = NdjsonRecords(stream, sample=sample)
    except BaseException:
        raw.close()
        raise
    return Source(name, fmt, compressed, size, reader, raw)


def _open_raw(name: str, stdin: BinaryIO | None) -> tuple[BinaryIO, int | None]:
    if name == "-":
        if stdin is None:
            raise SourceError("no standard input to read")
        return stdin, None
    try:
        kind = os.stat(name).st_mode
    except FileNotFoundError:
        raise SourceError(f"no such file: {name}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {name}: {exc.strerror}") from None
    if stat.S_ISDIR(kind):
        raise SourceError(f"{name} is a directory, not a file")
    if not stat.S_ISREG(kind):  # opening a FIFO waits for a writer, for ever
        what = ("a named pipe (FIFO)" if stat.S_ISFIFO(kind) else "a socket"
                if stat.S_ISSOCK(kind) else "a device")
        raise SourceError(f"{name} is {what}, not a file: bulkio reads a file it can read again "
                          f"on --resume; to stream it, give it as standard input: "
                          f"`bulkio import - ... < {name}`")
    try:
        raw = open(name, "rb")  # noqa: SIM115 - the Source owns and closes it
    except FileNotFoundError:
        raise SourceError(f"no such file: {name}") from None
    except OSError as exc:
        raise SourceError(f"cannot read {name}: {exc.strerror}") from None
    return raw, os.fstat(raw.fileno()).st_size
