"""Bytes to text lines, as people's files really are: any line ending, BOM or not, UTF-8 or
Windows-1252, NUL bytes. Every line carries its length in bytes, so a reader knows the exact
offset of each record boundary (which is what makes --resume able to seek)."""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1 << 20
SAMPLE = 64 * 1024
FALLBACK = "cp1252"


def iter_raw_lines(stream: BinaryIO, prefix: bytes = b"") -> Iterator[bytes]:
    """Lines with their terminators; splits on \\n, \\r\\n and a lone \\r (bytes.splitlines)."""
    pending = prefix
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        pending += chunk
        lines = pending.splitlines(keepends=True)
        # The last piece may be incomplete, or a \r whose \n is in the next chunk.
        pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        yield from lines
    if pending:
        yield pending


def detect_encoding(sample: bytes) -> str:
    """utf-8 (BOM or not) when the sample decodes as UTF-8, else Windows-1252."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return FALLBACK
    return "utf-8"


class LineDecoder:
    """Decodes lines in one encoding, falling back to Windows-1252 (then Latin-1) per line."""

    def __init__(self, encoding: str) -> None:
        self.encoding = "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding
        self.strip_bom = True
        self.fallbacks = 0  # lines that were not in the declared encoding

    def decode(self, raw: bytes) -> str:
        try:
            text = raw.decode(self.encoding)
        except UnicodeDecodeError:
            self.fallbacks += 1
            try:
                text = raw.decode(FALLBACK)
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
        if self.strip_bom:
            self.strip_bom = False
            text = text.removeprefix("\ufeff")
        if "\x00" in text:
            text = text.replace("\x00", "")
        return text


def validate_encoding(name: str) -> str:
    """The codec's canonical name; LookupError for an unknown one."""
    return codecs.lookup(name).name
