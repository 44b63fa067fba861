"""One output file's writer: the pages its streams queue, joined into one chunk, appended to
the file and the chunk's ids to the id log (one write and one fsync each), then the checkpoint
committed: both lengths, each stream's next token and last page ids.

Repeats: a record the server sends again on a stream's next page is dropped (each stream keeps
its last page's ids). A stream whose cursor the server refused is paged again from its start;
its pages are then checked against every id it wrote, indexed on disk from the id log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...formats.output import AppendFile, Encoded
from ...store.export_checkpoint import ExportCheckpoint, Stream, StreamStep
from ...store.serial import Serial
from .job import Target
from .written_ids import WrittenIds, log_lines

QUEUED_PAGES = 2  # per output file, waiting for its writer
PAGES_PER_CHUNK = 4  # at most this many queued pages are joined into one write

#: (target name, the streams' steps of one chunk, records dropped as repeats)
Written = Callable[[str, list[StreamStep], int], None]


@dataclass(slots=True)
class EncodedPage:
    stream: str
    next_token: str | None
    records: Encoded


class TargetWriter:
    """Writes one target's pages, in the order they are queued, until `end()`."""

    def __init__(self, target: Target, data: AppendFile, ids: AppendFile, *, header: bytes,
                 streams: dict[str, Stream], checkpoint: ExportCheckpoint, serial: Serial,
                 job_dir: Path, on_written: Written) -> None:
        self.target = target
        self.data = data
        self.ids = ids
        self.header = header
        self.streams = streams
        self.checkpoint = checkpoint
        self.serial = serial
        self.job_dir = job_dir
        self.on_written = on_written
        self.queue: asyncio.Queue[EncodedPage | None] = asyncio.Queue(QUEUED_PAGES)
        self.replays: dict[str, WrittenIds] = {}  # restarted streams: the ids they wrote
        self.reindex: set[str] = set()  # streams restarted since the writer last looked

    async def open(self) -> None:
        await self.data.open()
        await self.ids.open()

    async def close(self) -> None:
        await self.data.close()
        await self.ids.close()
        for replay in self.replays.values():
            replay.close()

    async def put(self, page: EncodedPage) -> None:
        """Queue a page (waiting while QUEUED_PAGES are: a stream's backpressure)."""
        await self.queue.put(page)

    async def end(self) -> None:
        """Every stream of this target has finished."""
        await self.queue.put(None)

    def restarted(self, stream: Stream) -> None:
        """The stream is paged again from its start: index its ids before its next page."""
        self.reindex.add(stream.key)

    async def run(self) -> None:
        ended = False
        while not ended:
            batch = [page] if (page := await self.queue.get()) is not None else []
            ended = page is None
            while batch and len(batch) < PAGES_PER_CHUNK and not self.queue.empty():
                more = self.queue.get_nowait()
                if more is None:
                    ended = True
                    break
                batch.append(more)
            if batch:
                await self._write(batch, self.header if self.data.size == 0 else b"")

    async def _write(self, batch: list[EncodedPage], header: bytes) -> None:
        chunk = [header] if header else []
        logged, steps, duplicates = [], [], 0
        for page in batch:
            stream = self.streams[page.stream]
            repeated = await self._repeats(stream, page.records.ids)
            chunk.append(page.records.without(repeated) if repeated else page.records.data)
            fresh = page.records.ids
            if repeated:
                skip = set(repeated)
                fresh = [i for n, i in enumerate(fresh) if n not in skip]
            fresh_ids = [i for i in fresh if i is not None]
            logged.append(log_lines(stream.no, fresh_ids))
            if stream.key in self.replays:
                await self.serial(self.replays[stream.key].add, fresh_ids)
            stream.last_page = {i for i in page.records.ids if i is not None}
            duplicates += len(repeated)
            steps.append(StreamStep(page.stream, page.next_token,
                                    len(page.records.ids) - len(repeated), list(stream.last_page)))
        size = await self.data.append(b"".join(chunk))
        id_size = await self.ids.append(b"".join(logged))
        await self.serial(self.checkpoint.commit, self.target.name, size, id_size, steps,
                          duplicates)
        self.on_written(self.target.name, steps, duplicates)

    async def _repeats(self, stream: Stream, ids: list[str | None]) -> list[int]:
        """Indexes of the records of a page that its stream has written already."""
        earlier: set[str] = set()
        if stream.key in self.reindex:
            self.reindex.discard(stream.key)
            if stream.key in self.replays:
                await self.serial(self.replays.pop(stream.key).close)
            self.replays[stream.key] = await self.serial(
                WrittenIds, self.job_dir / f"replay-{stream.no}.db", self.ids.path,
                self.ids.size, stream.no)
        if stream.key in self.replays:
            earlier = await self.serial(self.replays[stream.key].written,
                                        [i for i in ids if i is not None])
        distinct = set(ids)
        if len(distinct) == len(ids) and not distinct & stream.last_page and not earlier:
            return []  # the usual page: set operations, no loop over its records
        last, seen, repeated = stream.last_page, set(), []
        for index, record_id in enumerate(ids):
            if record_id is None:
                continue
            if record_id in last or record_id in seen or record_id in earlier:
                repeated.append(index)
            seen.add(record_id)
        return repeated
