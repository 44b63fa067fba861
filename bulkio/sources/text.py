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
        yield from pending.splitlines(keepends=True)


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (BOM or not) unless the sample's non-ASCII lines are mostly not UTF-8.

    Windows-1252 text almost never forms valid multi-byte UTF-8, so lines that decode as
    non-ASCII UTF-8 are strong evidence; a few stray lines in another encoding are then read
    with the per-line fallback instead of garbling the whole file.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    lines = sample.splitlines()
    if lines and len(sample) >= SAMPLE:
        lines.pop()  # the last sampled line may be cut inside a character
    valid = invalid = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            valid += 1
        except UnicodeDecodeError:
            invalid += 1
    return "utf-8" if valid >= invalid else FALLBACK


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
