"""bulkio export: page the bulk list endpoints straight to disk.

Shape of a run:

    streams (one cursor per kind and client) --pages--> one writer per output file --> PATH.part
         concurrent, under the quota limiter      drop repeats, one chunk, fsync, checkpoint

A cursor is sequential, so each stream pages on its own and many streams page at once. A
stream encodes its page (orjson, or CSV rows) as soon as it arrives, so what waits for the
writer is bytes, not parsed records; the writer's queue holds two pages, so a stream waits
(backpressure) rather than piling pages up in memory. The writer joins what is queued into
one chunk, appends it and the chunk's ids to the id log (one aiofiles write and one fsync
each), and commits the checkpoint: both lengths, each stream's next token and last page ids.

Repeats: a record the server sends again on a stream's next page is dropped (each stream keeps
its last page's ids). A stream whose cursor the server refuses is paged again from its start;
its pages are then checked against every id it wrote, indexed on disk from the id log.
Streams never overlap: each is one client's leads (by slug, or by UUID), or all of them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
import orjson

from ...errors import ApiError, AuthError, ConfigError, TransportError
from ...formats.output import (
    AppendFile,
    CsvEncoder,
    Encoded,
    Encoder,
    NdjsonEncoder,
    finish_file,
    sha256_file,
    spill_to_csv,
)
from ...leadgenius.client import LeadGeniusClient
from ...models import ExportProgress, ExportReport, StreamProgress
from ...store.db import FINISHED
from ...store.export_checkpoint import ExportCheckpoint, Stream, StreamStep
from ...store.files import atomic_write
from ...store.serial import Serial
from ...version import __version__
from ..pool import Send, run_pool
from ..runs import job_totals, run_then_finish, write_report
from .fields import check_fields
from .job import ExportOptions, Target, fingerprint
from .streams import cursor_count, plan_streams, stream_pages
from .written_ids import WrittenIds, log_lines

log = logging.getLogger("bulkio.export")
T = TypeVar("T")

QUEUED_PAGES = 2  # per output file, waiting for its writer
PAGES_PER_CHUNK = 4  # at most this many queued pages are joined into one write
READ_AHEAD = 2  # pages requested before the one in hand is encoded, across all streams


@dataclass(slots=True)
class EncodedPage:
    stream: str
    next_token: str | None
    records: Encoded


_END = None  # tells a writer that every stream has finished


@dataclass
class Output:
    """One target being written: its data file (or CSV spill), its id log, its queue."""

    target: Target
    data: AppendFile
    ids: AppendFile
    queue: asyncio.Queue[EncodedPage | None]


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
        self.outputs: dict[str, Output] = {}
        self.read_ahead = anyio.Semaphore(READ_AHEAD)
        self.replays: dict[str, WrittenIds] = {}  # restarted streams: the ids they wrote
        self.reindex: set[str] = set()  # streams restarted since the writer last looked
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
            self.checkpoint.set_meta(company_id=company, started_iso=_now())
        self.streams = {s.key: s for s in self.checkpoint.streams()}
        for name, state in self.checkpoint.targets().items():
            self.written[name] = (state.records, state.pages, state.duplicates)
        self.phase = "exporting"
        try:
            await self._page_all()
        finally:
            with anyio.CancelScope(shield=True):
                for output in self.outputs.values():
                    await output.data.close()
                    await output.ids.close()
                for replay in self.replays.values():
                    replay.close()
        self.phase = "finishing"
        if not self.failed:
            for target in self.targets.values():
                await self._finish_target(target)
            for index in self.job_dir.glob("replay-*.db"):
                index.unlink()
            self.checkpoint.set_meta(status=FINISHED)

    async def _page_all(self) -> None:
        states = self.checkpoint.targets()
        async with anyio.create_task_group() as tg:
            for name, target in self.targets.items():
                if self._renamed(target):
                    continue
                output = Output(
                    target,
                    AppendFile(self._data_path(target), size=states[name].bytes,
                               gzip=target.gzip and not self._spills(target),
                               hashed=not self._spills(target)),
                    AppendFile(self.job_dir / f"{name}.ids", size=states[name].id_bytes),
                    asyncio.Queue(QUEUED_PAGES))
                await output.data.open()
                await output.ids.open()
                self.outputs[name] = output
                tg.start_soon(self._write_target, output)
            pending = [s for s in self.streams.values() if not s.done]

            async def produce(submit: Send[Stream]) -> None:
                for stream in pending:
                    await submit(stream)

            if pending:
                await run_pool(produce, self._run_stream,
                               concurrency=cursor_count(self.api, len(pending)))
            for output in self.outputs.values():
                await output.queue.put(_END)

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
        output = self.outputs[stream.target]
        encoder = self._encoder(output.target)
        answered = False
        try:
            async for token, encoded in stream_pages(
                    self.api, stream, page_size=self.options.page_size, fields=self.options.fields,
                    transform=encoder.encode, on_restart=lambda: self._restarted(stream),
                    read_ahead=self.read_ahead):
                answered = True
                await output.queue.put(EncodedPage(stream.key, token, encoded))
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

    def _restarted(self, stream: Stream) -> None:
        self.reindex.add(stream.key)  # the writer indexes its ids before its next page

    async def _write_target(self, output: Output) -> None:
        header = self._encoder(output.target).header()
        ended = False
        while not ended:
            batch = [page] if (page := await output.queue.get()) is not None else []
            ended = page is None
            while batch and len(batch) < PAGES_PER_CHUNK and not output.queue.empty():
                more = output.queue.get_nowait()
                if more is None:
                    ended = True
                    break
                batch.append(more)
            if batch:
                await self._write(output, batch, header if output.data.size == 0 else b"")

    async def _write(self, output: Output, batch: list[EncodedPage], header: bytes) -> None:
        chunk = [header] if header else []
        logged, steps, duplicates = [], [], 0
        for page in batch:
            stream = self.streams[page.stream]
            repeated = await self._repeats(output, stream, page.records.ids)
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
        size = await output.data.append(b"".join(chunk))
        id_size = await output.ids.append(b"".join(logged))
        await self.serial(self.checkpoint.commit, output.target.name, size, id_size, steps, duplicates)
        self._count(output.target.name, steps, duplicates)

    async def _repeats(self, output: Output, stream: Stream, ids: list[str | None]) -> list[int]:
        """Indexes of the records of a page that its stream has written already."""
        earlier: set[str] = set()
        if stream.key in self.reindex:
            self.reindex.discard(stream.key)
            if stream.key in self.replays:
                await self.serial(self.replays.pop(stream.key).close)
            self.replays[stream.key] = await self.serial(
                WrittenIds, self.job_dir / f"replay-{stream.no}.db", output.ids.path,
                output.ids.size, stream.no)
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

    async def _finish_target(self, target: Target) -> None:
        """Close the file (converting a CSV spill), rename it into place, write its manifest."""
        state = self.checkpoint.targets()[target.name]
        output = self.outputs.get(target.name)
        if self._spills(target):
            spill = self._data_path(target)
            digest = await anyio.to_thread.run_sync(
                lambda: spill_to_csv(spill, target.part, target.gzip, raw=self.options.csv_raw))
            await anyio.to_thread.run_sync(finish_file, target.part, target.path)
            spill.unlink()
        elif target.part.exists() or not target.path.exists():
            data = output.data if output is not None else None
            if state.bytes == 0 or data is None:  # nothing written: still a valid, empty file
                data = AppendFile(target.part, gzip=target.gzip, size=state.bytes, hashed=True)
                await data.open()
                if state.bytes == 0:
                    await data.append(self._encoder(target).header())
                await data.close()
            digest = data.sha256
            await anyio.to_thread.run_sync(finish_file, target.part, target.path)
        else:  # renamed by an earlier run that stopped before its manifest
            digest = await anyio.to_thread.run_sync(sha256_file, target.path)
        (self.job_dir / f"{target.name}.ids").unlink(missing_ok=True)
        manifest = self._manifest(target, target.path.stat().st_size, digest)
        atomic_write(target.manifest, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))

    def _manifest(self, target: Target, size: int, digest: str) -> dict[str, Any]:
        meta = self.checkpoint.meta()
        state = self.checkpoint.targets()[target.name]
        streams = [s for s in self.checkpoint.streams() if s.target == target.name]
        per_client: dict[str, int] = {}
        misfiled: dict[str, int] = {}
        for s in streams:
            per_client[s.label] = per_client.get(s.label, 0) + s.records
            if s.client is not None and s.client != s.label and s.records:
                misfiled[s.label] = s.records
        return {
            "file": target.path.name, "kind": target.name, "format": target.format,
            "gzip": target.gzip, "company_id": meta.get("company_id"),
            "clients": sorted(per_client), "fields": list(self.options.fields or []) or None,
            "records": state.records, "records_per_client": per_client,
            "filed_under_client_uuid": misfiled, "pages": state.pages,
            "duplicates_dropped": state.duplicates, "bytes": size, "sha256": digest,
            "endpoint": "bulk list" if self.api.auth.has_api_key else "JWT lead list",
            "cursors": "single" if any(s.client is None for s in streams) else "per client",
            "started_at": meta.get("started_iso"), "finished_at": _now(),
            "bulkio_version": __version__,
            **({"formula_cells": "as they are (--csv-raw)" if self.options.csv_raw else
                "prefixed with ' (text starting with = + - @ tab or CR)"}
               if target.format == "csv" else {}),
        }

    # -- progress and report ---------------------------------------------------------------

    def progress(self) -> ExportProgress:
        stats = self.api.stats
        records = sum(w[0] for w in self.written.values())
        return ExportProgress(
            phase=self.phase, records=records, pages=sum(w[1] for w in self.written.values()),
            bytes=sum(o.data.size for o in self.outputs.values()),
            duplicates_dropped=sum(w[2] for w in self.written.values()),
            streams=[StreamProgress(f"{s.kind} {s.label}" + (" (by UUID)" if s.client not in
                                    (None, s.label) else ""), s.records, s.pages, s.done)
                     for s in self.streams.values()],
            requests=stats.requests, retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=time.monotonic() - self.started, waiting_s=self.api.waiting_s())

    async def _report(self, ended: str) -> ExportReport:
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
            interrupted=ended != "done")
        if finished:
            report.bytes = sum(t.path.stat().st_size for t in self.targets.values())
        report.report_path = write_report(self.options.report or self.job_dir / "report.json", report)
        if self.on_progress is not None and self.phase != "starting":
            self.phase = ended
            self.on_progress(self.progress())
        return report


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
