"""The id log of an export, and the on-disk index built from it when a cursor starts over.

Each target's log has one line per record written: the stream's number, a tab, the id. It
costs a sequential append per chunk; nothing reads it unless a stream's cursor is refused
(it expired, say) and the stream is paged again from its start. Then the stream's ids are
loaded from the log into a SQLite table, indexed once, and each page of the replay is checked
against it: memory stays flat however many records the stream had written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

_IN_CHUNK = 900  # ids per `IN (...)` lookup


def _plain(text: str) -> bool:
    return not text.startswith('"') and "\t" not in text and "\n" not in text and "\r" not in text


def log_lines(stream_no: int, ids: Sequence[str]) -> bytes:
    """Log lines for `ids` (an id that could break a line is written as a JSON string)."""
    prefix = f"{stream_no}\t"
    if not ids:
        return b""
    text = "\n".join(ids)
    if (text.count("\n") == len(ids) - 1 and "\t" not in text and "\r" not in text
            and not text.startswith('"') and '\n"' not in text):  # every id plain: no loop
        return (prefix + text.replace("\n", "\n" + prefix) + "\n").encode()
    out = []
    for value in ids:
        text = str(value)
        out.append(prefix + (text if _plain(text) else orjson.dumps(text).decode()) + "\n")
    return "".join(out).encode()


def _parse(line: bytes) -> tuple[int, str]:
    number, _, text = line.rstrip(b"\n").partition(b"\t")
    value = orjson.loads(text) if text.startswith(b'"') else text.decode()
    return int(number), value


class WrittenIds:
    """The ids one stream has written, indexed on disk (built from the target's id log)."""

    def __init__(self, index: Path, log: Path, log_size: int, stream_no: int) -> None:
        index.unlink(missing_ok=True)
        self.db = sqlite3.connect(index, isolation_level=None, check_same_thread=False)
        self.db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
                              "CREATE TABLE ids (id TEXT NOT NULL);")
        self.db.execute("BEGIN")
        with log.open("rb") as f:
            left = log_size
            batch: list[tuple[str]] = []
            for line in f:
                left -= len(line)
                if left < 0:
                    break  # past what the checkpoint vouches for
                number, value = _parse(line)
                if number == stream_no:
                    batch.append((value,))
                    if len(batch) >= 10_000:
                        self.db.executemany("INSERT INTO ids VALUES (?)", batch)
                        batch.clear()
            self.db.executemany("INSERT INTO ids VALUES (?)", batch)
        self.db.execute("COMMIT")
        self.db.execute("CREATE INDEX ids_id ON ids (id)")  # one sort, not a B-tree insert a row

    def add(self, ids: Iterable[Any]) -> None:
        self.db.executemany("INSERT INTO ids VALUES (?)", ((str(i),) for i in ids))

    def written(self, ids: Sequence[Any]) -> set[str]:
        """Which of `ids` the stream has already written."""
        found: set[str] = set()
        keys = [str(i) for i in ids]
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start:start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.db.execute(
                f"SELECT id FROM ids WHERE id IN ({marks})", chunk))
        return found

    def close(self) -> None:
        self.db.close()
