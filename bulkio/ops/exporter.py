"""bulkio export: page the bulk list endpoints straight to disk.

Shape of a run:

    streams (one cursor per kind and client) --pages--> one writer per output file --> PATH.part
         concurrent, under the quota limiter       dedupe by id, one chunk, fsync, checkpoint

A cursor is sequential, so each stream pages on its own and many streams page at once. A
stream encodes its page (orjson, or CSV rows) as soon as it arrives, so what waits for the
writer is bytes, not parsed records; the writer's queue holds two pages, so a stream waits
(backpressure) rather than piling pages up in memory. The writer joins what is queued into
one chunk, appends it (one aiofiles write, one fsync) and commits the checkpoint: the file's
size, each stream's next token, the ids written. Nothing else is kept per record.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
import orjson

from ..checkpoint import ExportCheckpoint, Stream, StreamStep
from ..client import MAX_LEAD_PAGE, LeadGeniusClient
from ..errors import ApiError, AuthError, ConfigError, TransportError
from ..files import atomic_write
from ..formats.output import (
    CsvEncoder,
    Encoded,
    Encoder,
    NdjsonEncoder,
    PartFile,
    finish_file,
    spill_to_csv,
)
from ..models import ExportProgress, ExportReport, LeadKind, Page, StreamProgress
from ..pool import Send, run_pool
from ..serial import Serial
from ..version import __version__
from .export_job import ALL_CLIENTS, ExportOptions, Target, fingerprint

log = logging.getLogger("bulkio.export")
T = TypeVar("T")

MAX_CURSORS = 16  # default cap on concurrent cursors: each may hold one encoded page
QUEUED_PAGES = 2  # per output file, waiting for its writer
PAGES_PER_CHUNK = 4  # at most this many queued pages are joined into one write
CURSOR_RESTARTS = 3  # an expired cursor is paged again from the start at most this often


@dataclass(slots=True)
class EncodedPage:
    stream: str
    next_token: str | None
    records: Encoded


_END = None  # tells a writer that every stream has finished


async def plan_streams(api: LeadGeniusClient, options: ExportOptions,
                       kinds: list[LeadKind]) -> list[Stream]:
    """The cursors an export runs: per kind, one per client (by slug, and by UUID to catch
    leads misfiled under it), or one for every client with --single-cursor."""
    if not api.auth.has_api_key:
        if LeadKind.SOURCE in kinds:
            raise ConfigError("source leads are listed only by the bulk endpoint, which needs "
                              "an API key: set LEADGENIUS_API_KEY and LEADGENIUS_USER_ID")
        log.warning("no API key: exporting through the JWT lead list (1,000 full records a "
                    "page), which is slower; set LEADGENIUS_API_KEY and LEADGENIUS_USER_ID for "
                    "the bulk endpoint (5,000 a page, with field projection)")
    if options.client.upper() == ALL_CLIENTS:
        if options.single_cursor and api.auth.has_api_key:
            return [Stream(f"{k.value}|*", k.value, k.value, None, ALL_CLIENTS) for k in kinds]
        clients = await api.list_clients()
    else:
        clients = [await api.resolve_client(options.client)]
    streams = []
    for kind in kinds:
        for c in clients:
            streams.append(Stream(f"{kind.value}|{c.slug}", kind.value, kind.value, c.slug, c.slug))
            if c.id and c.id != c.slug:
                streams.append(Stream(f"{kind.value}|{c.id}", kind.value, kind.value, c.id, c.slug))
    return streams


async def stream_pages(api: LeadGeniusClient, stream: Stream, *, page_size: int,
                       fields: tuple[str, ...] | None,
                       transform: Callable[[list[dict[str, Any]]], T]
                       ) -> AsyncIterator[tuple[str | None, T]]:
    """(next token, transform(records)) for each page of a stream, from its checkpointed token
    on. The parsed page is released before each yield, so a consumer that waits (on a full
    queue) holds only what `transform` made of it. A cursor the server no longer accepts (400)
    is paged again from the start; whoever writes drops the repeated records."""
    kind, token, restarts = LeadKind(stream.kind), stream.token, 0
    while True:
        page: Page
        try:
            if api.auth.has_api_key:
                page = await api.bulk_page(kind, client_slug=stream.client, limit=page_size,
                                           cursor=token, fields=fields)
            else:
                if stream.client is None:
                    raise ConfigError("this export pages every client through one cursor, "
                                      "which needs the API key it was started with")
                page = await api.list_leads(stream.client, limit=min(page_size, MAX_LEAD_PAGE),
                                            cursor=token)
        except ApiError as error:
            if token is None or error.status != 400 or restarts >= CURSOR_RESTARTS:
                raise
            restarts += 1
            log.warning("the server no longer accepts the cursor of %s (%s); paging it again "
                        "from its start, dropping the records already written", stream.key,
                        error)
            token = None
            continue
        token, made = page.next_token, transform(page.items)
        del page
        yield token, made
        if token is None:
            return


class Exporter:
    """One run of one export job. Use `export_leads` rather than this class directly."""

    def __init__(self, api: LeadGeniusClient, options: ExportOptions, targets: list[Target],
                 checkpoint: ExportCheckpoint, job_dir: Path, resumed: bool,
                 on_progress: Callable[[ExportProgress], None] | None) -> None:
        self.api = api
        self.options = options
        self.targets = {t.name: t for t in targets}
        self.cp = checkpoint
        self.serial = Serial()
        self.job_dir = job_dir
        self.resumed = resumed
        self.on_progress = on_progress
        self.phase = "starting"
        self.started = time.monotonic()
        self.streams: dict[str, Stream] = {}
        self.written = {name: (0, 0, 0) for name in self.targets}  # records, pages, duplicates
        self.parts: dict[str, PartFile] = {}
        self.failed: dict[str, str] = {}
        self.stats_before: dict[str, float] = {}
        # The server projects for the bulk endpoint; the JWT list is projected here.
        self.project_locally = bool(options.fields) and not api.auth.has_api_key

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> ExportReport:
        interrupted = True
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._tick)
                await self._export()
                tg.cancel_scope.cancel()
            interrupted = False
        finally:
            with anyio.CancelScope(shield=True):
                report = await self._report(interrupted)
        return report

    async def _export(self) -> None:
        meta = self.cp.meta()
        self.stats_before = meta.get("stats", {})
        if not self.resumed:
            streams = await plan_streams(self.api, self.options,
                                         [t.kind for t in self.targets.values()])
            company = await self.api.company_id() if self.api.auth.has_api_key else None
            self.cp.start(fingerprint(self.options, list(self.targets.values())),
                          list(self.targets), streams)
            self.cp.set_meta(company_id=company, started_iso=_now())
        self.streams = {s.key: s for s in self.cp.streams()}
        for name, state in self.cp.targets().items():
            self.written[name] = (state.records, state.pages, state.duplicates)
        self.phase = "exporting"
        try:
            await self._page_all()
        finally:
            with anyio.CancelScope(shield=True):
                for part in self.parts.values():
                    await part.close()
        self.phase = "finishing"
        if not self.failed:
            for target in self.targets.values():
                await self._finish_target(target)
            self.cp.set_meta(status="finished")

    async def _page_all(self) -> None:
        sizes = {name: state.bytes for name, state in self.cp.targets().items()}
        queues: dict[str, asyncio.Queue[EncodedPage | None]] = {}
        async with anyio.create_task_group() as tg:
            for name, target in self.targets.items():
                if self._renamed(target):
                    continue
                part = PartFile(self._data_path(target), gzip=target.gzip and not self._spills(target),
                                size=sizes.get(name, 0))
                await part.open()
                self.parts[name] = part
                queues[name] = asyncio.Queue(QUEUED_PAGES)
                tg.start_soon(self._write_target, target, part, queues[name])
            pending = [s for s in self.streams.values() if not s.done]

            async def produce(submit: Send[Stream]) -> None:
                for stream in pending:
                    await submit(stream)

            async def work(stream: Stream) -> None:
                await self._run_stream(stream, queues[stream.target])

            if pending:
                await run_pool(produce, work, concurrency=self._cursors(len(pending)))
            for queue in queues.values():
                await queue.put(_END)

    def _renamed(self, target: Target) -> bool:
        """An earlier run completed this file and renamed it, then stopped before the end."""
        done = all(s.done for s in self.streams.values() if s.target == target.name)
        return done and not self._data_path(target).exists() and target.path.exists()

    def _cursors(self, streams: int) -> int:
        settings = self.api.settings
        wanted = settings.concurrency or min(settings.effective_concurrency, MAX_CURSORS)
        return max(1, min(streams, wanted))

    def _spills(self, target: Target) -> bool:
        """CSV without --fields: the header is the union of the keys, known only at the end,
        so the records are spilled as NDJSON and converted in a second pass."""
        return target.format == "csv" and not self.options.fields

    def _data_path(self, target: Target) -> Path:
        return self.job_dir / f"{target.name}.spill.ndjson" if self._spills(target) else target.part

    def _encoder(self, target: Target) -> Encoder:
        if target.format == "csv" and self.options.fields:
            return CsvEncoder(self.options.fields)
        return NdjsonEncoder(self.options.fields if self.project_locally else None)

    async def _run_stream(self, stream: Stream,
                          queue: asyncio.Queue[EncodedPage | None]) -> None:
        encoder = self._encoder(self.targets[stream.target])
        try:
            async for token, encoded in stream_pages(self.api, stream,
                                                     page_size=self.options.page_size,
                                                     fields=self.options.fields,
                                                     transform=encoder.encode):
                await queue.put(EncodedPage(stream.key, token, encoded))
                del encoded
        except AuthError:
            raise  # the credentials, not this cursor: nothing else can succeed either
        except (ApiError, TransportError) as error:
            # One client's cursor failing must not lose the others' work: report and go on.
            log.error("%s: %s", stream.key, error)
            self.failed[stream.key] = str(error)
            await self.serial(self.cp.fail_stream, stream.key, str(error))

    async def _write_target(self, target: Target, part: PartFile,
                            queue: asyncio.Queue[EncodedPage | None]) -> None:
        header = self._encoder(target).header()
        ended = False
        while not ended:
            batch = [page] if (page := await queue.get()) is not None else []
            ended = page is None
            while batch and len(batch) < PAGES_PER_CHUNK and not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    ended = True
                    break
                batch.append(more)
            if batch:
                await self._write(target, part, batch, header if part.size == 0 else b"")

    async def _write(self, target: Target, part: PartFile, batch: list[EncodedPage],
                     header: bytes) -> None:
        ids = [i for page in batch for i in page.records.ids if i is not None]
        old = await self.serial(self.cp.already_written, target.name, ids) if ids else set()
        fresh: set[str] = set()
        chunk = [header] if header else []
        steps, duplicates = [], 0
        for page in batch:
            repeated = []
            for index, record_id in enumerate(page.records.ids):
                if record_id is not None:
                    if record_id in old or record_id in fresh:
                        repeated.append(index)
                        continue
                    fresh.add(record_id)
            chunk.append(page.records.without(repeated) if repeated else page.records.data)
            duplicates += len(repeated)
            steps.append(StreamStep(page.stream, page.next_token,
                                    len(page.records.ids) - len(repeated)))
        size = await part.append(b"".join(chunk))
        await self.serial(self.cp.commit, target.name, size, steps, fresh, duplicates)
        records, pages, dropped = self.written[target.name]
        self.written[target.name] = (records + sum(s.records for s in steps),
                                     pages + len(steps), dropped + duplicates)
        for step in steps:
            stream = self.streams[step.key]
            stream.records += step.records
            stream.pages += 1
            stream.token, stream.done = step.token, step.token is None
        if duplicates:
            log.info("%s: dropped %d record(s) the server sent twice", target.name, duplicates)

    async def _finish_target(self, target: Target) -> None:
        """Close the file (converting a CSV spill), rename it into place, write its manifest."""
        state = self.cp.targets()[target.name]
        if self._spills(target):
            spill = self._data_path(target)
            size, digest = await anyio.to_thread.run_sync(spill_to_csv, spill, target.part,
                                                           target.gzip)
            await anyio.to_thread.run_sync(finish_file, target.part, target.path)
            spill.unlink()
        elif target.part.exists() or not target.path.exists():
            if state.bytes == 0:  # nothing was written: still a valid, empty file
                part = PartFile(target.part, gzip=target.gzip)
                await part.open()
                await part.append(self._encoder(target).header())
                await part.close()
            size = target.part.stat().st_size
            digest = await anyio.to_thread.run_sync(sha256_file, target.part)
            await anyio.to_thread.run_sync(finish_file, target.part, target.path)
        else:  # renamed by an earlier run that stopped before its manifest
            size = target.path.stat().st_size
            digest = await anyio.to_thread.run_sync(sha256_file, target.path)
        atomic_write(target.manifest, orjson.dumps(self._manifest(target, size, digest),
                                                   option=orjson.OPT_INDENT_2))

    def _manifest(self, target: Target, size: int, digest: str) -> dict[str, Any]:
        meta = self.cp.meta()
        state = self.cp.targets()[target.name]
        streams = [s for s in self.cp.streams() if s.target == target.name]
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
        }

    # -- progress and report ---------------------------------------------------------------

    def progress(self) -> ExportProgress:
        stats = self.api.stats
        records = sum(w[0] for w in self.written.values())
        return ExportProgress(
            phase=self.phase, records=records, pages=sum(w[1] for w in self.written.values()),
            bytes=sum(p.size for p in self.parts.values()),
            duplicates_dropped=sum(w[2] for w in self.written.values()),
            streams=[StreamProgress(f"{s.kind} {s.label}" + (" (by UUID)" if s.client not in
                                    (None, s.label) else ""), s.records, s.pages, s.done)
                     for s in self.streams.values()],
            requests=stats.requests, retries=stats.retries, rate_limited=stats.rate_limited,
            elapsed_s=time.monotonic() - self.started)

    async def _tick(self) -> None:
        while self.on_progress is not None:
            self.on_progress(self.progress())
            await anyio.sleep(0.25)

    async def _report(self, interrupted: bool) -> ExportReport:
        stats, before = self.api.stats, self.stats_before
        totals = {
            "requests": int(before.get("requests", 0)) + stats.requests,
            "retries": int(before.get("retries", 0)) + stats.retries,
            "rate_limited": int(before.get("rate_limited", 0)) + stats.rate_limited,
            "elapsed_s": float(before.get("elapsed_s", 0.0)) + time.monotonic() - self.started,
        }
        await self.serial(self.cp.set_meta, stats=totals)
        targets = (await self.serial(self.cp.targets)).values()
        finished = (await self.serial(self.cp.meta)).get("status") == "finished"
        report = ExportReport(
            records=sum(t.records for t in targets), pages=sum(t.pages for t in targets),
            requests=int(totals["requests"]), retries=int(totals["retries"]),
            rate_limited=int(totals["rate_limited"]), elapsed_s=round(totals["elapsed_s"], 3),
            bytes=sum(t.bytes for t in targets),
            duplicates_dropped=sum(t.duplicates for t in targets),
            files=[str(t.path) for t in self.targets.values()] if finished else [],
            manifests=[str(t.manifest) for t in self.targets.values()] if finished else [],
            failed_streams=dict(self.failed), job_dir=str(self.job_dir),
            interrupted=interrupted)
        if finished:
            report.bytes = sum(t.path.stat().st_size for t in self.targets.values())
        report_path = self.options.report or self.job_dir / "report.json"
        atomic_write(report_path, orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2))
        report.report_path = str(report_path)
        if self.on_progress is not None and self.phase != "starting":
            self.phase = "interrupted" if interrupted else "done"
            self.on_progress(self.progress())
        return report


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
