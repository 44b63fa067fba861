"""Reading a .gz file as a stream that ends where the data ends, saying why if that is early.

`gzip.GzipFile` raises EOFError from deep inside a read when a file is truncated, and the bytes
it decompressed in that read are lost with it. This reader hands out every byte that can be
decompressed, then ends, with `damage` saying that the file is truncated or corrupt, so the
reader above can reject the row cut in two and report the rest missing.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

CHUNK = 256 * 1024
GZIP = 16 + zlib.MAX_WBITS  # zlib's window bits for the gzip wrapper (header and CRC checked)


class GzipStream:
    """A read-only binary stream of the decompressed data of `raw` (one or more gzip members)."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.damage: str | None = None  # why the data ended early, if it did
        self._start()

    def _start(self) -> None:
        self._inflate = zlib.decompressobj(GZIP)
        self._in_member = False
        self._buffer = bytearray()
        self._position = 0  # decompressed bytes handed out
        self._raw_eof = False

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self._buffer) < size) and not self._raw_eof:
            self._fill()
        if size < 0 or size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:size])
            del self._buffer[:size]
        self._position += len(data)
        return data

    def _fill(self) -> None:
        chunk = self.raw.read(CHUNK)
        if not chunk:
            self._raw_eof = True
            if self._in_member:
                self._buffer += self._inflate.flush()
                self.damage = "the gzip data ends early (the file is truncated)"
            return
        self._inflate_bytes(chunk)

    def _inflate_bytes(self, data: bytes) -> None:
        while data:
            self._in_member = True
            try:
                self._buffer += self._inflate.decompress(data)
            except zlib.error as exc:
                self.damage = f"the gzip data is corrupt ({exc})"
                self._raw_eof = True
                return
            if not self._inflate.eof:
                return
            # One member ended; what follows is another member, or padding some tools add.
            data = self._inflate.unused_data
            self._inflate = zlib.decompressobj(GZIP)
            self._in_member = False
            if not data.strip(b"\x00"):
                return

    # -- what the readers above ask of a stream -----------------------------------------------

    def seekable(self) -> bool:
        return self.raw.seekable()

    def seek(self, offset: int) -> int:
        """Go to a decompressed offset: from the start again, discarding up to it."""
        self.raw.seek(0)
        self.damage = None
        self._start()
        while offset > 0:
            data = self.read(min(offset, CHUNK))
            if not data:
                break
            offset -= len(data)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self.raw.close()
