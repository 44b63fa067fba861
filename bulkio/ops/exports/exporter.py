"""bulkio export: page the bulk list endpoints straight to disk.

Shape of a run:

    streams (one cursor per kind and client) --pages--> one writer per output file --> PATH.part
         concurrent, under the quota limiter      drop repeats, one chunk, fsync, checkpoint

A cursor is sequential, so each stream pages on its own and many streams page at once. A
stream encodes its page (orjson, or CSV rows) as soon as it arrives, so what waits for the
writer is bytes, not parsed records; the writer's queue holds two pages, so a stream waits
(backpressure) rather than piling pages up in memory. The writer (`writer.TargetWriter`)
appends, drops repeats and checkpoints; `finish` renames the file into place with its
manifest. Streams never overlap: each is one client's leads (by slug, or by UUID), or all of
them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from ...errors import ApiError, AuthError, ConfigError, TransportError
from ...formats.output import AppendFile, CsvEncoder, Encoder, NdjsonEncoder
from ...leadgenius.client import LeadGeniusClient
from ...models import Ended, ExportProgress, ExportReport, StreamProgress
from ...store.db import FINISHED
from ...store.export_checkpoint import ExportCheckpoint, Stream, StreamStep
from ...store.serial import Serial
from ..pool import Send, run_pool
from ..runs import job_totals, run_then_finish, write_report
from .fields import check_fields
from .finish import finish_file_in_place, now_iso, write_manifest
from .job import ExportOptions, Target, fingerprint
from .streams import cursor_count, plan_streams, stream_pages
from .writer import EncodedPage, TargetWriter

log = logging.getLogger("bulkio.export")

READ_AHEAD = 2  # pages requested before the one in hand is encoded, across all streams


class Exporter:
    """One run of one export job. Use `export_leads` rather than this class directly."""

    def __init__(self, api: LeadGeniusClient, options: ExportOptions, targets: list[Target],
                 checkpoint: ExportCheckpoint, job_dir: Path, resumed: bool,
                 on_progress: Callable[[ExportProgress], None] | None) -> None:
        self.api = api
        self.options = options
        self.targets = {t.name: t for t in targets}
        self.checkpoint = checkpoint
        self.serial = Serial()
        self.job_dir = job_dir
        self.resumed = resumed
        self.on_progress = on_progress
        self.phase = "starting"
        self.started = time.monotonic()
        self.streams: dict[str, Stream] = {}
        self.written = {name: (0, 0, 0) for name in self.targets}  # records, pages, duplicates
        self.writers: dict[str, TargetWriter] = {}
        self.read_ahead = anyio.Semaphore(READ_AHEAD)
        self.failed: dict[str, str] = {}
        self.stats_before: dict[str, Any] = {}
        # The server projects for the bulk endpoint; the JWT list is projected here.
        self.project_locally = bool(options.fields) and not api.auth.has_api_key

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> ExportReport:
        return await run_then_finish(self._export, self._report, self.progress,
                                     self.on_progress)

    async def _export(self) -> None:
        meta = self.checkpoint.meta()
        self.stats_before = meta.get("stats", {})
        if not self.resumed:
            streams: list[Stream] = []

            async def plan() -> None:
                streams.extend(await plan_streams(self.api, self.options,
                                                  [t.kind for t in self.targets.values()]))

            async with anyio.create_task_group() as tg:  # two round trips at once, not in turn
                tg.start_soon(plan)
                if self.api.auth.has_api_key:
                    tg.start_soon(self.api.company_id)
            company = await self.api.company_id() if self.api.auth.has_api_key else None
            if self.options.fields and not self.options.allow_unknown_fields:
                await check_fields(self.api, streams, self.options.fields)
            self.checkpoint.start(fingerprint(self.options, list(self.targets.values())),
                          list(self.targets), streams)
            self.checkpoint.set_meta(company_id=company, started_iso=now_iso())
        self.streams = {s.key: s for s in self.checkpoint.streams()}
        for name, state in self.checkpoint.targets().items():
            self.written[name] = (state.records, state.pages, state.duplicates)
        self.phase = "exporting"
        try:
            await self._page_all()
        finally:
            with anyio.CancelScope(shield=True):
                for writer in self.writers.values():
                    await writer.close()
        self.phase = "finishing"
        if not self.failed:
            for target in self.targets.values():
                await self._finish(target)
            for index in self.job_dir.glob("replay-*.db"):
                index.unlink()
            self.checkpoint.set_meta(status=FINISHED)

    async def _page_all(self) -> None:
        states = self.checkpoint.targets()
        async with anyio.create_task_group() as tg:
            for name, target in self.targets.items():
                if self._renamed(target):
                    continue
                writer = TargetWriter(
                    target,
                    AppendFile(self._data_path(target), size=states[name].bytes,
                               gzip=target.gzip and not self._spills(target),
                               hashed=not self._spills(target)),
                    AppendFile(self.job_dir / f"{name}.ids", size=states[name].id_bytes),
                    header=self._encoder(target).header(), streams=self.streams,
                    checkpoint=self.checkpoint, serial=self.serial, job_dir=self.job_dir,
                    on_written=self._count)
                await writer.open()
                self.writers[name] = writer
                tg.start_soon(writer.run)
            pending = [s for s in self.streams.values() if not s.done]

            async def produce(submit: Send[Stream]) -> None:
                for stream in pending:
                    await submit(stream)

            if pending:
                await run_pool(produce, self._run_stream,
                               concurrency=cursor_count(self.api, len(pending)))
            for writer in self.writers.values():
                await writer.end()

    def _renamed(self, target: Target) -> bool:
        """An earlier run completed this file and renamed it, then stopped before the end."""
        done = all(s.done for s in self.streams.values() if s.target == target.name)
        return done and not self._data_path(target).exists() and target.path.exists()

    def _spills(self, target: Target) -> bool:
        """CSV without --fields: the header is the union of the keys, known only at the end,
        so the records are spilled as NDJSON and converted in a second pass."""
        return target.format == "csv" and not self.options.fields

    def _data_path(self, target: Target) -> Path:
        return self.job_dir / f"{target.name}.spill.ndjson" if self._spills(target) else target.part

    def _encoder(self, target: Target) -> Encoder:
        if target.format == "csv" and self.options.fields:
            return CsvEncoder(self.options.fields, raw=self.options.csv_raw)
        return NdjsonEncoder(self.options.fields if self.project_locally else None)

    async def _run_stream(self, stream: Stream) -> None:
        writer = self.writers[stream.target]
        encoder = self._encoder(writer.target)
        answered = False
        try:
            async for token, encoded in stream_pages(
                    self.api, stream, page_size=self.options.page_size, fields=self.options.fields,
                    transform=encoder.encode, on_restart=lambda: writer.restarted(stream),
                    read_ahead=self.read_ahead):
                answered = True
                await writer.put(EncodedPage(stream.key, token, encoded))
                del encoded
        except AuthError:
            raise  # the credentials, not this cursor: nothing else can succeed either
        except ApiError as error:
            if error.status == 400 and not answered:
                # Refused from the start: the request itself is wrong, for every cursor.
                raise ConfigError(f"the server refused the export: {error.message} (check "
                                  "--fields and --page-size)") from None
            await self._stream_failed(stream, error)
        except TransportError as error:
            await self._stream_failed(stream, error)

    async def _stream_failed(self, stream: Stream, error: Exception) -> None:
        # One client's cursor failing must not lose the others' work: report and go on.
        log.error("%s: %s", stream.key, error)
        self.failed[stream.key] = str(error)
        await self.serial(self.checkpoint.fail_stream, stream.key, str(error))

    def _count(self, target: str, steps: list[StreamStep], duplicates: int) -> None:
        records, pages, dropped = self.written[target]
        self.written[target] = (records + sum(s.records for s in steps), pages + len(steps),
                                dropped + duplicates)
        for step in steps:
            stream = self.streams[step.key]
            stream.records += step.records
            stream.pages += 1
            stream.token, stream.done = step.token, step.token is None
        if duplicates:
            log.info("%s: dropped %d record(s) the server sent again", target, duplicates)

    async def _finish(self, target: Target) -> None:
        writer = self.writers.get(target.name)
        digest = await finish_file_in_place(
            target, written=self.checkpoint.targets()[target.name].bytes,
            data=writer.data if writer is not None else None,
            spill=self._data_path(target) if self._spills(target) else None,
            header=self._encoder(target).header(), csv_raw=self.options.csv_raw)
        (self.job_dir / f"{target.name}.ids").unlink(missing_ok=True)
        write_manifest(target, self.checkpoint, self.options, digest=digest,
                       endpoint="bulk list" if self.api.auth.has_api_key else "JWT lead list")

    # -- progress and report ---------------------------------------------------------------

    def progress(self) -> ExportProgress:
        stats = self.api.stats
        records = sum(w[0] for w in self.written.values())
        return ExportProgress(
            phase=self.phase, records=records, pages=sum(w[1] for w in self.written.values()),
            bytes=sum(w.data.size for w in self.writers.values()),
            duplicates_dropped=sum(w[2] for w in self.written.values()),
            streams=[StreamProgress(f"{s.kind} {s.label}" + (" (by UUID)" if s.client not in
                                    (None, s.label) else ""), s.records, s.pages, s.done)
                     for s in self.streams.values()],
            requests=stats.requests, retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=time.monotonic() - self.started, waiting_s=self.api.waiting_s())

    async def _report(self, ended: Ended) -> ExportReport:
        totals = job_totals(self.stats_before, self.api.stats, self.started)
        await self.serial(self.checkpoint.set_meta, stats=totals)
        targets = (await self.serial(self.checkpoint.targets)).values()
        finished = (await self.serial(self.checkpoint.meta)).get("status") == FINISHED
        report = ExportReport(
            records=sum(t.records for t in targets), pages=sum(t.pages for t in targets),
            requests=totals["requests"], retries=totals["retries"],
            rate_limited=totals["rate_limited"], elapsed_s=totals["elapsed_s"],
            bytes=sum(t.bytes for t in targets),
            duplicates_dropped=sum(t.duplicates for t in targets),
            files=[str(t.path) for t in self.targets.values()] if finished else [],
            manifests=[str(t.manifest) for t in self.targets.values()] if finished else [],
            failed_streams=dict(self.failed), job_dir=str(self.job_dir),
            interrupted=ended != Ended.DONE)
        if finished:
            report.bytes = sum(t.path.stat().st_size for t in self.targets.values())
        report.report_path = write_report(self.options.report or self.job_dir / "report.json", report)
        if self.on_progress is not None and self.phase != "starting":
            self.phase = ended
            self.on_progress(self.progress())
        return report

