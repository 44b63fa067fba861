"""Exports and purges as jobs of the service, every job's state and events, the clients."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import orjson
from aiohttp import web

from ..leadgenius.client import open_client
from ..ops.exports.job import plan_targets
from .base import SERVICE, Service, int_query, json_body, problem, reply, resolve_client, secured, via
from .jobs_view import export_parts, job_view
from .mappings import BadRequest
from .retention import gone
from .runner import export_options
from .store import JobStatus


async def start_export(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = await json_body(request)
    kind = str(body.get("kind") or "enrich")
    fmt = str(body.get("format") or "ndjson")
    if kind not in ("enrich", "source", "all") or fmt not in ("ndjson", "csv"):
        raise BadRequest("kind is enrich, source or all; format is ndjson or csv")
    clients = body.get("clients")
    client = None
    if clients:
        if not isinstance(clients, list) or len(clients) != 1:
            raise BadRequest("clients: one client's slug, or none for every client")
        client = await resolve_client(service, clients[0])
    fields = body.get("fields")
    if fields is not None and (not isinstance(fields, list)
                               or not all(isinstance(f, str) for f in fields)):
        raise BadRequest("fields must be a list of field names")
    separator = str(body.get("separator") or ",")
    if separator not in SEPARATORS:
        raise BadRequest("separator is , or ;")
    notify_url = service.notifier.checked(body.get("notify_url"))
    job_id = service.store.create_job("export", None, {
        "kind": kind, "client": client, "fields": fields, "format": fmt,
        "separator": separator, "bom": body.get("bom") is True, "via": via(request)}, {})
    service.notifier.watch(job_id, notify_url)
    service.runner.submit(job_id)
    return reply(202, {"job_id": job_id, "status": JobStatus.QUEUED})


async def download(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    job = service.store.job(request.match_info["job_id"])
    if job is None or job["kind"] != "export":
        return problem(404, "job not found")
    if job["status"] != JobStatus.COMPLETED:
        return problem(409, f"the export is {job['status']}, not completed")
    if job["files_deleted"]:
        return problem(410, gone(service.keep_days))
    parts = export_parts(job["request"])
    kind = request.query.get("part") or parts[0]
    if kind not in parts:
        return problem(404, f"this export has no {kind} leads file, only {' and '.join(parts)}")
    targets = plan_targets(export_options(service.runner.job_dir(job["job_id"]), job["request"]))
    path = targets[parts.index(kind)].path
    if not path.is_file():
        return problem(404, "the export's file is not there any more")
    # named for the people who keep it: whose leads, which, when
    day = time.strftime("%Y-%m-%d", time.localtime(job["completed_at"] or job["created_at"]))
    client = job["request"].get("client") or "all-clients"
    fmt = job["request"].get("format", "ndjson")
    headers = {"Content-Disposition": f'attachment; filename="{client}-{kind}-{day}.{fmt}"'}
    separator, bom = job["request"].get("separator", ","), job["request"].get("bom", False)
    if fmt != "csv" or (separator == "," and not bom):
        return web.FileResponse(path, headers=headers)
    # for a spreadsheet: its separator, and a byte order mark so Excel reads UTF-8
    response = web.StreamResponse(headers={**headers, "Content-Type": "text/csv; charset=utf-8"})
    await response.prepare(request)
    async for chunk in for_spreadsheet(path, separator, bom):
        await response.write(chunk)
    await response.write_eof()
    return response


SEPARATORS = (",", ";")


async def for_spreadsheet(path: Path, separator: str, bom: bool) -> AsyncIterator[bytes]:
    """An export's CSV (comma-separated UTF-8) with another separator and a BOM, a few
    thousand rows at a time, read in a worker thread (an export can be large)."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        first = True
        while True:
            chunk = await anyio.to_thread.run_sync(_rewritten, rows, separator)
            if not chunk:
                return
            yield (codecs.BOM_UTF8 if bom and first else b"") + chunk
            first = False


def _rewritten(rows: Iterator[list[str]], separator: str, most: int = 5000) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\r\n")
    for row in itertools.islice(rows, most):
        writer.writerow(row)
    return out.getvalue().encode()


async def start_purge(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = await json_body(request)
    slug = await resolve_client(service, body.get("client"))
    if body.get("dry_run"):
        async with open_client(service.settings) as api:
            leads = await api.count_leads(slug)
        return reply(200, {"client": slug, "leads": leads, "dry_run": True})
    if body.get("confirm") != slug:
        raise BadRequest(f"type the client's slug ({slug}) in `confirm` to purge it")
    notify_url = service.notifier.checked(body.get("notify_url"))
    job_id = service.store.create_job("purge", None, {"client": slug, "via": via(request)}, {})
    service.notifier.watch(job_id, notify_url)
    service.runner.submit(job_id)
    return reply(202, {"job_id": job_id, "status": JobStatus.QUEUED})


async def clients(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    async with open_client(service.settings) as api:
        if request.method == "POST":
            body = await json_body(request)
            name = str(body.get("name") or "").strip()
            if not name:
                raise BadRequest("name the new client")
            made = await api.create_client(name)
            return reply(201, {"client": {"name": made.name, "slug": made.slug}})
        found = await api.list_clients()
    return reply(200, {"clients": [{"name": c.name, "slug": c.slug} for c in found]})


async def get_job(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    job = service.store.job(request.match_info["job_id"])
    if job is None:
        return problem(404, "job not found")
    return reply(200, view_of(service, job))


def view_of(service: Service, job: dict[str, Any]) -> dict[str, Any]:
    """A job as every route shows it: live counts while it runs, an import's undo."""
    undo = service.store.undo_of(job["job_id"]) if job["kind"] == "import" else None
    return job_view(job, service.runner.snapshot(job["job_id"]), undo)


async def list_jobs(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    page_no = int_query(request, "page", 1, 1_000_000)
    limit = int_query(request, "limit", 25, 100)
    jobs, total = service.store.jobs(page_no, limit)
    return reply(200, {"jobs": [view_of(service, j) for j in jobs],
                       "total": total, "page": page_no, "limit": limit})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: the job's state now, then at each change (at most 4 a second),
    until it ends."""
    service = request.app[SERVICE]
    job_id = request.match_info["job_id"]
    if service.store.job(job_id) is None:
        return problem(404, "job not found")
    if service.stopping.is_set():
        return problem(503, "the service is stopping")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store"})
    secured(response)
    await response.prepare(request)
    while True:
        changed = service.changed.setdefault(job_id, asyncio.Event())
        job = service.store.job(job_id)
        assert job is not None
        view = view_of(service, job)
        try:
            await response.write(b"event: state\ndata: " + orjson.dumps(view) + b"\n\n")
        except ConnectionError:  # the page went away: nothing to do
            return response
        if view["ended"] or service.stopping.is_set():
            return response  # a stopping service: the page says so, and reconnects
        with anyio.move_on_after(15):  # else a heartbeat: proxies close quiet streams
            await changed.wait()
        await asyncio.sleep(0.25)  # at most 4 states a second


