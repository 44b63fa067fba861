"""The LeadVibe API's import endpoints: preview, start, the jobs and their errors, cancel,
resume, rejects."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
import orjson
from aiohttp import web

from ..store.files import atomic_write, private_dir, private_file
from .base import SERVICE, Service, int_query, json_body, problem, reply, resolve_client, via
from .jobs_view import import_view
from .mappings import BadRequest, ImportPlan, plan_import
from .payloads import first_payloads
from .payloads import summary as import_summary
from .retention import gone
from .rows import errors_page, rejects_as_uploaded, repaired_rows
from .store import RESUMABLE, JobStatus
from .uploads import describe, receive


async def preview(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    path, name = await receive(request, service.data_dir / "uploads", service.max_upload_bytes)
    found = await anyio.to_thread.run_sync(describe, path, name)
    service.store.add_preview(found.file_id, found.file_name, found.path, found.expires_at,
                              found.answer())
    return reply(200, {**found.answer(),
                       "saved_mappings": service.store.mappings_for(found.headers)})


async def save_mapping(request: web.Request) -> web.Response:
    """Name a preview's mapping: it is offered again for a file with the same columns."""
    service = request.app[SERVICE]
    body = await json_body(request)
    kept = service.store.preview(str(body.get("file_id") or ""))
    if kept is None:
        raise web.HTTPNotFound(reason="file_id expired or not found (previews expire after "
                                      "1 hour)")
    name = str(body.get("name") or "").strip()
    fields = body.get("field_mappings")
    if not name or len(name) > 100:
        raise BadRequest("name the mapping (100 characters at most)")
    if not isinstance(fields, dict) or not all(
            isinstance(k, str) and k in kept["headers"] and isinstance(v, str)
            for k, v in fields.items()):
        raise BadRequest("field_mappings must map the file's columns to fields")
    service.store.save_mapping(name, kept["headers"], fields)
    return reply(201, {"name": name, "field_mappings": fields})


def planned(service: Service, body: dict[str, Any]) -> tuple[dict[str, Any], ImportPlan]:
    """The preview a request names (404 once expired), and the column map it asks for."""
    kept = service.store.preview(str(body.get("file_id") or ""))
    if kept is None:
        raise web.HTTPNotFound(reason="file_id expired or not found (previews expire after "
                                      "1 hour)")
    return kept, plan_import(body, kept["headers"], kept["suggested_mappings"])


async def sample(request: web.Request) -> web.Response:
    """The payloads of the first rows under a mapping (the page's live view), built by the
    import's own rules."""
    service = request.app[SERVICE]
    body = await json_body(request)
    kept, plan = planned(service, body)
    payloads = await anyio.to_thread.run_sync(first_payloads, Path(kept["path"]), plan,
                                              str(body.get("client") or "client"))
    return reply(200, {"payloads": payloads, "notices": plan.notices})


async def summary(request: web.Request) -> web.Response:
    """What the whole file would give under a mapping, before anything is sent (the page's
    summary before Start)."""
    service = request.app[SERVICE]
    body = await json_body(request)
    kept, plan = planned(service, body)
    return reply(200, await import_summary(Path(kept["path"]), plan,
                                           str(body.get("client") or "client")))


async def start_import(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = await json_body(request)
    kept, plan = planned(service, body)
    return await started(service, kept, plan, body, via(request))


async def started(service: Service, kept: dict[str, Any], plan: ImportPlan,
                  body: dict[str, Any], origin: str) -> web.Response:
    """A new import job of a previewed file under a plan: its own copy of the file, queued."""
    on_duplicate = str(body.get("on_duplicate") or "update")
    if on_duplicate not in ("skip", "update", "create"):
        raise BadRequest("on_duplicate must be skip, update or create")
    notify_url = service.notifier.checked(body.get("notify_url"))
    slug = await resolve_client(service, body.get("client"))
    request_record = {"client": slug, "on_duplicate": on_duplicate,
                      "primary_identifier": body["primary_identifier"],
                      "field_mappings": body.get("field_mappings"),
                      "alias_mappings": body.get("alias_mappings") or {},
                      "notes_columns": plan.notes_columns, "notices": plan.notices,
                      "allow_no_email": plan.allow_no_email, "via": origin,
                      "encoding": kept.get("encoding", "utf-8"), "bom": kept.get("bom", False)}
    job_id = service.store.create_job("import", kept["file_name"], request_record,
                                      {"total_rows": kept["row_count"]})
    service.notifier.watch(job_id, notify_url)
    job_dir = service.runner.job_dir(job_id)
    # The job outlives the preview: its own copy of the file, private as the upload was.
    shutil.copyfile(kept["path"], private_file(private_dir(job_dir) / "input.csv"))
    atomic_write(job_dir / "mapping.json", orjson.dumps(plan.mapping))
    service.runner.submit(job_id)
    return reply(202, {"job_id": job_id, "status": JobStatus.QUEUED, "message": "Import job started",
                       "file_name": kept["file_name"], "total_rows": kept["row_count"]})


async def reimport(request: web.Request) -> web.Response:
    """A corrected file (the rejects, fixed) imported in one step into the same client, with
    the same columns and choices as the import it follows."""
    service = request.app[SERVICE]
    job = service.store.job(request.match_info["job_id"])
    if job is None or job["kind"] != "import":
        return problem(404, "import job not found")
    path, name = await receive(request, service.data_dir / "uploads", service.max_upload_bytes)
    found = await anyio.to_thread.run_sync(describe, path, name)
    service.store.add_preview(found.file_id, found.file_name, found.path, found.expires_at,
                              found.answer())
    kept = service.store.preview(found.file_id)
    assert kept is not None
    same = {k: job["request"].get(k) for k in (
        "client", "on_duplicate", "primary_identifier", "field_mappings", "alias_mappings",
        "allow_no_email")}
    column = (same["primary_identifier"] or {}).get("column")
    if column not in kept["headers"]:
        raise BadRequest(f"{name} has no column {column!r}, the email column of the import it "
                         "corrects: upload the rejected rows' file with its columns as they were")
    plan = plan_import(same, kept["headers"], kept["suggested_mappings"])
    return await started(service, kept, plan, same, via(request))


async def list_imports(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    page_no = int_query(request, "page", 1, 1_000_000)
    limit = int_query(request, "limit", 25, 100)
    jobs, total = service.store.jobs(page_no, limit, kind="import")
    return reply(200, {"jobs": [import_view(j, service.runner.snapshot(j["job_id"]), brief=True)
                                for j in jobs], "total": total, "page": page_no, "limit": limit})


async def get_import(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    job = service.store.job(request.match_info["job_id"])
    if job is None or job["kind"] != "import":
        return problem(404, "job not found")
    view = import_view(job, service.runner.snapshot(job["job_id"]), brief=False)
    errors, total = await anyio.to_thread.run_sync(
        errors_page, service.runner.job_dir(job["job_id"]), job,
        int_query(request, "errors_page", 1, 1_000_000),
        int_query(request, "errors_limit", 100, 1000))
    view["errors"], view["errors_total"] = errors, total
    view["repaired"] = await anyio.to_thread.run_sync(
        repaired_rows, service.runner.job_dir(job["job_id"]))
    return reply(200, view)


async def cancel(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    job_id = request.match_info["job_id"]
    job = service.store.job(job_id)
    if job is None:
        return problem(404, "job not found")
    if not service.runner.cancel(job_id):
        return problem(409, f"the job has already ended ({job['status']})")
    return reply(202, {"job_id": job_id, "status": "cancelling"})


async def resume(request: web.Request) -> web.Response:
    """Continue a failed or cancelled job where it stopped, exactly once (its journal says
    which rows are done, and settles those sent without an answer)."""
    service = request.app[SERVICE]
    job_id = request.match_info["job_id"]
    job = service.store.job(job_id)
    if job is None:
        return problem(404, "job not found")
    if job["status"] not in RESUMABLE:
        return problem(409, f"the job is {job['status']}: only a failed or cancelled job "
                            "resumes")
    if job["files_deleted"]:
        return problem(410, gone(service.keep_days))
    service.runner.resume(job_id)
    return reply(202, {"job_id": job_id, "status": JobStatus.QUEUED})


async def undo(request: web.Request) -> web.Response:
    """Delete exactly the leads an ended import created, as a job of its own; the client's
    slug typed in `confirm`, as a purge asks."""
    service = request.app[SERVICE]
    job_id = request.match_info["job_id"]
    job = service.store.job(job_id)
    if job is None or job["kind"] != "import":
        return problem(404, "import job not found")
    if not job["status"].ended:
        return problem(409, "the import is still running: cancel it first, then undo it")
    if job["files_deleted"]:
        return problem(410, gone(service.keep_days))
    body = await json_body(request)
    slug = job["request"]["client"]
    if body.get("confirm") != slug:
        raise BadRequest(f"type the client's name as LeadGenius knows it ({slug}) to confirm")
    undo_id = service.store.create_job("undo", job["file_name"], {
        "of": job_id, "client": slug, "via": via(request)}, {})
    service.runner.submit(undo_id)
    return reply(202, {"job_id": undo_id, "status": JobStatus.QUEUED})


async def rejects(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    job_id = request.match_info["job_id"]
    path = service.runner.job_dir(job_id) / "bulkio" / "rejects.csv"
    job = service.store.job(job_id)
    if job is not None and job["files_deleted"]:
        return problem(410, gone(service.keep_days))
    if job is None or not path.exists():
        return problem(404, "no rejected rows for this job")
    request_record = job["request"]
    body, charset = await anyio.to_thread.run_sync(
        rejects_as_uploaded, path, request_record.get("encoding") or "utf-8",
        bool(request_record.get("bom")))
    stem = Path(job["file_name"] or "import").stem
    return web.Response(body=body, headers={
        "Content-Type": f"text/csv; charset={charset}",
        "Content-Disposition": f'attachment; filename="{stem}-rejects.csv"'})


