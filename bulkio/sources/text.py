"""Bytes to text lines, as people's files really are: any line ending, with or without a BOM,
UTF-8 or Windows-1252 (told apart line by line), UTF-16 or UTF-32 (by BOM or NUL pattern),
NUL bytes, a line too long to be one, a compressed file cut short.

Each line comes with its length in bytes (the exact offset of each record boundary is what
lets --resume seek) and with a problem, if it has one, for the reader above to report:

    fallback      not in the file's encoding: decoded as Windows-1252 instead
    undecodable   not in the encoding given with --encoding (shown with \\x escapes), or
                  UTF-16/32 bytes that form no character (shown as U+FFFD)
    overlong      longer than the line limit (only its start is kept)
    damaged       the file's data ends inside this line (or, for an empty line, right
                  before it): a truncated or corrupt .gz
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple, Protocol

from ..errors import SourceError
from .sniff import utf16_or_32

CHUNK = 1 << 20
SAMPLE = 64 * 1024
LINE_LIMIT = 16 * 1024 * 1024  # a line may be long (a pasted document in a note), not unbounded
OVERLONG_HEAD = 200  # what is kept of an overlong line, to show in the rejects file
FALLBACK = "cp1252"


class ByteStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Line(NamedTuple):
    text: str  # with its line ending, if it has one
    size: int  # bytes of the source it takes
    problem: str | None = None  # fallback, undecodable, overlong, damaged, nul (see the module)
    detail: str = ""


class RawLine(NamedTuple):
    data: bytes  # with its terminator (only the start of an overlong line)
    size: int
    problem: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Encoding:
    """How the file's bytes become text."""

    codec: str  # a Python codec name
    label: str  # for people: "UTF-8 with BOM", "Windows-1252 (the file is not UTF-8)"...
    fallback: bool  # a line not in `codec` is read as Windows-1252 (never when it was given)

    @property
    def text_mode(self) -> bool:
        """Not ASCII-compatible (UTF-16/32): transcoded as a stream, not decoded line by line."""
        return not is_ascii_compatible(self.codec)


def is_ascii_compatible(codec: str) -> bool:
    probe = "\r\n,;\t|\"'ae1"
    try:
        return probe.encode(codec) == probe.encode("ascii")
    except (UnicodeError, LookupError):
        return False


def choose_encoding(sample: bytes, explicit: str | None = None) -> Encoding:
    """The encoding given (validated), else the one the sample's BOM, NUL pattern or bytes show.

    UTF-8 unless the sample's non-ASCII lines are mostly not UTF-8: Windows-1252 text almost
    never forms valid multi-byte UTF-8, so lines that decode as non-ASCII UTF-8 are strong
    evidence; a few stray lines in another encoding are then read with the per-line fallback
    instead of garbling the whole file.
    """
    if explicit:
        try:
            codec = codecs.lookup(explicit).name
        except LookupError:
            raise SourceError(f"unknown encoding {explicit!r} (try utf-8, cp1252, latin-1 or "
                              "utf-16)") from None
        return Encoding(codec, f"{codec} (as given by --encoding)", fallback=False)
    wide = utf16_or_32(sample)
    if wide:
        bom = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE))
        how = "with a BOM" if bom else "no BOM: told by its NUL bytes"
        return Encoding(wide, f"{wide.upper()} ({how})", fallback=False)
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8", "UTF-8 with a BOM", fallback=True)
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
    if valid >= invalid:
        return Encoding("utf-8", "UTF-8", fallback=True)
    return Encoding(FALLBACK, "Windows-1252 (the file is not UTF-8)", fallback=True)


def read_lines(stream: BinaryIO, encoding: Encoding, *, prefix: bytes = b"",
               at_start: bool = True, limit: int = LINE_LIMIT) -> Iterator[Line]:
    """Every line of `prefix` + the rest of `stream`, decoded. `at_start`: a BOM may lead."""
    if encoding.text_mode:
        utf8 = Transcoded(stream, encoding.codec, prefix)
        return _decoded(split_raw(utf8, limit=limit), "utf-8", fallback=False,
                        at_start=at_start, flag_replacements=True)
    return _decoded(split_raw(stream, prefix, limit), encoding.codec, fallback=encoding.fallback,
                    at_start=at_start)


def _decoded(lines: Iterator[RawLine], codec: str, *, fallback: bool, at_start: bool,
             flag_replacements: bool = False) -> Iterator[Line]:
    first = at_start
    for data, size, problem, detail in lines:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            if fallback:
                try:
                    text = data.decode(FALLBACK)
                except UnicodeDecodeError:  # one of the five bytes cp1252 leaves undefined
                    text = data.decode("latin-1")
                if codec != FALLBACK:
                    problem = problem or "fallback"
            else:
                text = data.decode(codec, errors="backslashreplace")
                problem, detail = problem or "undecodable", detail or f"not valid {codec}: {exc.reason}"
        if first:
            first = False
            text = text.removeprefix("\ufeff")
        if "\x00" in text:  # the API cannot store them: removed, and said (problem "nul")
            text = text.replace("\x00", "")
            problem, detail = problem or "nul", detail or ""
        if flag_replacements and problem is None and "\ufffd" in text:
            problem, detail = "undecodable", "bytes that form no character (shown as \ufffd)"
        yield Line(text, size, problem, detail)


def split_raw(stream: ByteStream, prefix: bytes = b"", limit: int = LINE_LIMIT) -> Iterator[RawLine]:
    """Lines split on \\n, \\r\\n and a lone \\r (bytes.splitlines), terminators kept.

    A line longer than `limit` comes as one RawLine with only its start; when the stream
    says its data ended early (`stream.damage`), the last line says so, or an empty one does.
    """
    pending = prefix
    overlong: tuple[bytes, int] | None = None  # the start and size so far of a long line
    while True:
        chunk = stream.read(CHUNK)
        if overlong is not None:
            head, size = overlong
            cut = _after_first_break(chunk)
            if chunk and cut < 0:
                overlong = (head, size + len(chunk))
                continue
            end = cut if chunk else 0
            yield RawLine(head, size + end, "overlong", f"{size + end:,} bytes")
            overlong, chunk = None, chunk[end:]
        if not chunk:
            break
        pending += chunk
        lines = pending.splitlines(keepends=True)
        # The last piece may be incomplete, or a \r whose \n is in the next chunk.
        pending = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        for line in lines:
            yield RawLine(line, len(line))
        if len(pending) > limit:
            overlong, pending = (pending[:OVERLONG_HEAD], len(pending)), b""
    damage: str | None = getattr(stream, "damage", None)
    if pending:
        *complete, last = pending.splitlines(keepends=True)
        for line in complete:
            yield RawLine(line, len(line))
        yield RawLine(last, len(last), "damaged" if damage else None, damage or "")
    elif damage:
        yield RawLine(b"", 0, "damaged", damage)


def _after_first_break(chunk: bytes) -> int:
    """The index just past the first line ending in `chunk`, or -1."""
    ends = [i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0]
    if not ends:
        return -1
    i = min(ends)
    return i + 2 if chunk[i:i + 2] == b"\r\n" else i + 1


class Transcoded:
    """A UTF-16/32 stream read as UTF-8 bytes, so that lines split as in any other file.

    Offsets are then in the UTF-8 text, not the file: such a source is not seekable, and a
    resumed import reads past the rows already done instead.
    """

    def __init__(self, raw: BinaryIO, codec: str, prefix: bytes = b"") -> None:
        self.raw = raw
        self._decoder = codecs.getincrementaldecoder(codec)(errors="replace")
        self._prefix = prefix
        self._done = False

    @property
    def damage(self) -> str | None:
        return getattr(self.raw, "damage", None)

    def read(self, size: int = -1) -> bytes:
        while not self._done:
            data = self._prefix or self.raw.read(CHUNK if size < 0 else max(size, 4096))
            self._prefix = b""
            text = self._decoder.decode(data, final=not data)
            self._done = not data
            if text:
                return text.encode("utf-8")
        return b""
