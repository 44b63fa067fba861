"""The service's HTTP surface: access (bearer token, or the page's session cookie with a CSRF
token), the seed's import endpoints, exports and purges as jobs of the same service, their
events, and the web page's files."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import orjson
from aiohttp import web

from ..client import open_client
from ..errors import ApiError, AuthError, BulkioError, UnknownClient
from ..settings import Settings
from .access import COOKIE, Access
from .jobs_view import errors_page, import_view, job_view
from .mappings import BadRequest, ImportPlan, plan_import
from .runner import Runner
from .store import ServiceStore
from .uploads import UploadRefused, describe, receive

log = logging.getLogger("bulkio.service")
STATIC = Path(__file__).parent / "static"
PUBLIC = {"/", "/login", "/session", "/favicon.ico"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                      "frame-ancestors 'none'; form-action 'self'",
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


@dataclass
class Service:
    data_dir: Path
    settings: Settings
    access: Access
    store: ServiceStore
    runner: Runner
    max_upload_bytes: int
    changed: dict[str, asyncio.Event]


SERVICE: web.AppKey[Service] = web.AppKey("service", Service)


def reply(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def problem(status: int, message: str) -> web.Response:
    return reply(status, {"error": message, "status": status})


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every API call needs the bearer token, or the page's session (and, to change anything,
    its CSRF token). Anything else gets 401 and nothing more."""
    service = request.app[SERVICE]
    path = request.path
    if path not in PUBLIC and not path.startswith("/static/"):
        session = request.cookies.get(COOKIE)
        if service.access.bearer_ok(request.headers.get("Authorization")):
            pass
        elif service.access.session_ok(session):
            if request.method not in ("GET", "HEAD") and not service.access.csrf_ok(
                    session or "", request.headers.get("X-CSRF-Token")):
                return _secured(problem(403, "missing or wrong CSRF token"))
        else:
            return _secured(problem(401, "unauthorized"))
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = problem(exc.status, exc.reason)
    except UploadRefused as refused:
        response = problem(refused.status, str(refused))
    except BadRequest as bad:
        response = problem(400, str(bad))
    return _secured(response)


def _secured(response: web.StreamResponse) -> web.StreamResponse:
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    return response


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise BadRequest("the body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def int_query(request: web.Request, name: str, default: int, high: int) -> int:
    try:
        value = int(request.query.get(name, default))
    except ValueError:
        raise BadRequest(f"{name} must be a whole number") from None
    if value < 1:
        raise BadRequest(f"{name} must be at least 1")
    return min(value, high)


# -- the page and its session ---------------------------------------------------------------


async def page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Content-Type": "text/html"})


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


async def login(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = await json_body(request)
    session = service.access.login(str(body.get("token") or ""))
    if session is None:
        return problem(401, "unauthorized")
    response = reply(200, {"csrf": service.access.csrf_for(session)})
    response.set_cookie(COOKIE, session, httponly=True, samesite="Strict", path="/",
                        secure=request.secure)
    return response


async def session_info(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    session = request.cookies.get(COOKIE)
    if not service.access.session_ok(session):
        return reply(200, {"logged_in": False})
    return reply(200, {"logged_in": True, "csrf": service.access.csrf_for(session or ""),
                       "quota_per_minute": service.settings.rate_per_minute,
                       "max_upload_mb": service.max_upload_bytes // (1 << 20)})


async def logout(request: web.Request) -> web.Response:
    request.app[SERVICE].access.logout(request.cookies.get(COOKIE))
    response = reply(200, {"logged_in": False})
    response.del_cookie(COOKIE, path="/")
    return response


# -- imports ----------------------------------------------------------------------------------


async def preview(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    path, name = await receive(request, service.data_dir / "uploads", service.max_upload_bytes)
    found = await anyio.to_thread.run_sync(describe, path, name)
    service.store.add_preview(found.file_id, found.file_name, found.path, found.expires_at,
                              found.answer())
    return reply(200, found.answer())


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
    from .payloads import first_payloads

    service = request.app[SERVICE]
    body = await json_body(request)
    kept, plan = planned(service, body)
    payloads = await anyio.to_thread.run_sync(first_payloads, Path(kept["path"]), plan,
                                              str(body.get("client") or "client"))
    return reply(200, {"payloads": payloads, "notices": plan.notices})


async def start_import(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = await json_body(request)
    kept, plan = planned(service, body)
    on_duplicate = str(body.get("on_duplicate") or "update")
    if on_duplicate not in ("skip", "update", "create"):
        raise BadRequest("on_duplicate must be skip, update or create")
    slug = await resolve_client(service, body.get("client"))
    request_record = {"client": slug, "on_duplicate": on_duplicate,
                      "primary_identifier": body["primary_identifier"],
                      "field_mappings": body.get("field_mappings"),
                      "alias_mappings": body.get("alias_mappings") or {},
                      "notes_columns": plan.notes_columns, "notices": plan.notices}
    job_id = service.store.create_job("import", kept["file_name"], request_record,
                                      {"total_rows": kept["row_count"]})
    job_dir = service.runner.job_dir(job_id)
    job_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(kept["path"], job_dir / "input.csv")  # the job outlives the preview
    (job_dir / "mapping.json").write_bytes(orjson.dumps(plan.mapping))
    service.runner.submit(job_id)
    return reply(202, {"job_id": job_id, "status": "queued", "message": "Import job started",
                       "file_name": kept["file_name"], "total_rows": kept["row_count"]})


async def resolve_client(service: Service, ident: Any) -> str:
    if not isinstance(ident, str) or not ident.strip():
        raise BadRequest("client (the LeadGenius client's slug) is required")
    try:
        async with open_client(service.settings) as api:
            return (await api.resolve_client(ident.strip())).slug
    except UnknownClient as error:
        raise BadRequest(str(error)) from None


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


async def rejects(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    job_id = request.match_info["job_id"]
    path = service.runner.job_dir(job_id) / "bulkio" / "rejects.csv"
    if service.store.job(job_id) is None or not path.exists():
        return problem(404, "no rejected rows for this job")
    return web.FileResponse(path, headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{job_id}-rejects.csv"'})


# -- exports, purges, clients, events --------------------------------------------------------


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
    job_id = service.store.create_job("export", None, {"kind": kind, "client": client,
                                                       "fields": fields, "format": fmt}, {})
    service.runner.submit(job_id)
    return reply(202, {"job_id": job_id, "status": "queued"})


async def download(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    job = service.store.job(request.match_info["job_id"])
    if job is None or job["kind"] != "export":
        return problem(404, "job not found")
    if job["status"] != "completed":
        return problem(409, f"the export is {job['status']}, not completed")
    fmt = job["request"].get("format", "ndjson")
    path = service.runner.job_dir(job["job_id"]) / f"export.{fmt}"
    return web.FileResponse(path, headers={
        "Content-Disposition": f'attachment; filename="{job["job_id"]}.{fmt}"'})


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
    job_id = service.store.create_job("purge", None, {"client": slug}, {})
    service.runner.submit(job_id)
    return reply(202, {"job_id": job_id, "status": "queued"})


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
    return reply(200, job_view(job, service.runner.snapshot(job["job_id"])))


async def list_jobs(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    page_no = int_query(request, "page", 1, 1_000_000)
    limit = int_query(request, "limit", 25, 100)
    jobs, total = service.store.jobs(page_no, limit)
    return reply(200, {"jobs": [job_view(j, service.runner.snapshot(j["job_id"])) for j in jobs],
                       "total": total, "page": page_no, "limit": limit})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: the job's state now, then at each change (at most 4 a second),
    until it ends."""
    service = request.app[SERVICE]
    job_id = request.match_info["job_id"]
    if service.store.job(job_id) is None:
        return problem(404, "job not found")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store"})
    _secured(response)
    await response.prepare(request)
    while True:
        changed = service.changed.setdefault(job_id, asyncio.Event())
        job = service.store.job(job_id)
        assert job is not None
        view = job_view(job, service.runner.snapshot(job_id))
        await response.write(b"event: state\ndata: " + orjson.dumps(view) + b"\n\n")
        if view["status"] in ("completed", "failed", "cancelled"):
            return response
        with anyio.move_on_after(15):
            await changed.wait()
        await asyncio.sleep(0.25)


def handle_errors(handler: Handler) -> Handler:
    """LeadGenius's own refusals, in one line, as a 502 (not the service's fault)."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except AuthError as error:
            return problem(502, f"LeadGenius refused the service's credentials: {error}")
        except ApiError as error:
            return problem(502, f"LeadGenius answered: {error}")
        except BulkioError as error:
            return problem(502, str(error))
    return wrapped


def create_app(service: Service) -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=1 << 20)
    app[SERVICE] = service
    r = app.router
    r.add_get("/", page)
    r.add_get("/static/{name}", static)
    r.add_post("/login", login)
    r.add_get("/session", session_info)
    r.add_post("/logout", logout)
    routes: list[tuple[str, str, Handler]] = [
        ("POST", "/leads/import/preview", preview),
        ("POST", "/leads/import/sample", sample),
        ("POST", "/leads/import/start", start_import),
        ("GET", "/leads/import/jobs", list_imports),
        ("GET", "/leads/import/jobs/{job_id}", get_import),
        ("POST", "/leads/import/jobs/{job_id}/cancel", cancel),
        ("GET", "/leads/import/jobs/{job_id}/rejects", rejects),
        ("POST", "/exports", start_export),
        ("GET", "/exports/{job_id}/download", download),
        ("POST", "/purges", start_purge),
        ("GET", "/clients", clients),
        ("POST", "/clients", clients),
        ("GET", "/jobs", list_jobs),
        ("GET", "/jobs/{job_id}", get_job),
        ("POST", "/jobs/{job_id}/cancel", cancel),
        ("GET", "/jobs/{job_id}/events", events),
    ]
    for method, path, handler in routes:
        r.add_route(method, path, handle_errors(handler))
    return app
