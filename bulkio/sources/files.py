"""Opening an import source: a path (.csv, .ndjson, .jsonl, optionally .gz) or stdin."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import SourceError
from .csv_records import CsvRecords
from .ndjson_records import NdjsonRecords
from .records import RecordReader
from .text import validate_encoding

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson",
           ".json": "ndjson"}


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

    def fraction_read(self) -> float | None:
        """How far through the file the reader is, 0..1, when the size is known."""
        if not self.size:
            return None
        position = self.raw.tell() if self.compressed else self.reader.offset
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
    if inner not in FORMATS:
        raise SourceError(f"cannot tell the format of {name!r} from its name; "
                          "use a .csv, .ndjson or .jsonl file (optionally .gz) or pass --format")
    return FORMATS[inner], compressed


def open_source(name: str, *, fmt: str | None = None, encoding: str | None = None,
                stdin: BinaryIO | None = None) -> Source:
    """Open `name` ("-" reads `stdin`) for reading records."""
    fmt, compressed = detect_format(name, fmt)
    if encoding:
        try:
            encoding = validate_encoding(encoding)
        except LookupError:
            raise SourceError(f"unknown encoding {encoding!r} (try utf-8, cp1252 or latin-1)") from None
    if name == "-":
        if stdin is None:
            raise SourceError("no standard input to read")
        raw: BinaryIO = stdin
        size = None
    else:
        try:
            raw = open(name, "rb")  # noqa: SIM115 - the reader owns and closes it
            size = os.fstat(raw.fileno()).st_size
        except FileNotFoundError:
            raise SourceError(f"no such file: {name}") from None
        except OSError as exc:
            raise SourceError(f"cannot read {name}: {exc.strerror}") from None
    stream: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
    try:
        reader: RecordReader = (CsvRecords(stream, encoding=encoding) if fmt == "csv"
                                else NdjsonRecords(stream))
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raw.close()
        raise SourceError(f"cannot read {name}: {exc}") from None
    except BaseException:
        raw.close()
        raise
    return Source(name, fmt, compressed, size, reader, raw)
