"""`bulkio export --out -`: the leads as NDJSON or CSV on a stream (standard output), for pipes
(`bulkio export --out - | jq ...`).

There is no file, so no `.part`, manifest or checkpoint: such an export cannot be resumed
(an interruption says so). Cursors page at once as for a file; each page is written whole,
in one call, so lines from two cursors never mix; a record the server repeats on a cursor's
next page is dropped. Progress and the summary go to standard error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, BinaryIO

import anyio

from ...errors import BulkioError, ConfigError
from ...formats.output import CsvEncoder, Encoder, NdjsonEncoder
from ...leadgenius.client import LeadGeniusClient
from ...models import Ended, ExportProgress, ExportReport, StreamProgress
from ...store.export_checkpoint import Stream
from ..pool import Send, run_pool
from ..runs import run_then_finish, write_report
from .fields import check_fields
from .job import KINDS, ExportOptions
from .streams import cursor_count, plan_streams, unique_pages


class OutputClosed(BulkioError):
    """Whoever read the stream stopped reading (`| head`): the export stops there."""


class StreamExport:
    """One export onto `out`. Use `export_leads("-", stdout=...)` rather than this class."""

    def __init__(self, api: LeadGeniusClient, options: ExportOptions, out: BinaryIO,
                 on_progress: Callable[[ExportProgress], None] | None) -> None:
        if options.resume:
            raise ConfigError("an export to standard output cannot be resumed (there is no file "
                              "to continue); run it again, or export to a file")
        fmt = options.format or "ndjson"
        if fmt == "csv" and not options.fields:
            raise ConfigError("CSV on standard output needs --fields (its header comes first, "
                              "before the records say which keys there are)")
        self.api = api
        self.options = options
        self.out = out
        self.on_progress = on_progress
        self.encoder: Encoder = (CsvEncoder(options.fields or (), raw=options.csv_raw)
                                 if fmt == "csv" else NdjsonEncoder(
                                     options.fields if not api.auth.has_api_key else None))
        self.phase = "starting"
        self.started = time.monotonic()
        self.streams: dict[str, list[Any]] = {}  # label -> [records, pages, done]
        self.records = self.pages = self.bytes = self.duplicates = 0
        self._lock = anyio.Lock()

    async def run(self) -> ExportReport:
        return await run_then_finish(self._export, self._report, self.progress, self.on_progress)

    async def _export(self) -> None:
        streams = await plan_streams(self.api, self.options, list(KINDS[self.options.kind]))
        if self.options.fields and not self.options.allow_unknown_fields:
            await check_fields(self.api, streams, self.options.fields)
        self.streams = {s.key: [0, 0, False] for s in streams}
        await self._write(self.encoder.header())
        self.phase = "exporting"

        async def produce(submit: Send[Stream]) -> None:
            for stream in streams:
                await submit(stream)

        await run_pool(produce, self._page, concurrency=cursor_count(self.api, len(streams)))

    async def _page(self, stream: Stream) -> None:
        counts = self.streams[stream.key]
        async for records, repeats in unique_pages(self.api, stream, page_size=self.options.page_size,
                                                   fields=self.options.fields):
            await self._write(self.encoder.encode(records).data)
            counts[0] += len(records)
            counts[1] += 1
            self.records += len(records)
            self.pages += 1
            self.duplicates += repeats
        counts[2] = True

    async def _write(self, data: bytes) -> None:
        if not data:
            return
        async with self._lock:
            try:
                await anyio.to_thread.run_sync(self._write_now, data)
            except BrokenPipeError:
                n = self.records
                raise OutputClosed(f"the standard output was closed after {n:,} record"
                                   f"{'s' if n != 1 else ''}: the export stopped there") from None
        self.bytes += len(data)

    def _write_now(self, data: bytes) -> None:
        self.out.write(data)
        self.out.flush()

    def progress(self) -> ExportProgress:
        stats = self.api.stats
        return ExportProgress(
            phase=self.phase, records=self.records, pages=self.pages, bytes=self.bytes,
            duplicates_dropped=self.duplicates,
            streams=[StreamProgress(key.replace("|", " "), n, pages, done)
                     for key, (n, pages, done) in self.streams.items()],
            requests=stats.requests, retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=time.monotonic() - self.started, waiting_s=self.api.waiting_s())

    async def _report(self, ended: Ended) -> ExportReport:
        stats = self.api.stats
        report = ExportReport(
            records=self.records, pages=self.pages, requests=stats.requests,
            retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=round(time.monotonic() - self.started, 3), bytes=self.bytes,
            duplicates_dropped=self.duplicates, files=["-"], interrupted=ended != Ended.DONE)
        if self.options.report:
            report.report_path = write_report(self.options.report, report)
        if self.on_progress is not None and self.phase != "starting":
            self.phase = ended
            self.on_progress(self.progress())
        return report
