"""The service's HTTP surface: access (the bearer token, or the page's session cookie with a
CSRF token) in front of every route, the page's files and session, and the routes of
`imports` and `jobs_routes`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ..errors import ApiError, AuthError, BulkioError
from . import imports, jobs_routes
from .access import COOKIE
from .base import SERVICE, Service, json_body, problem, reply, secured
from .mappings import BadRequest
from .paths import without_paths
from .uploads import UploadRefused

STATIC = Path(__file__).parent / "static"
PUBLIC = {"/", "/login", "/session", "/favicon.ico"}
HOOKS = "/hooks/campaigns/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every API call needs the bearer token, or the page's session (and, to change anything,
    its CSRF token). Anything else gets 401 and nothing more."""
    service = request.app[SERVICE]
    path = request.path
    # a campaign's webhook: its unguessable token in the path is its credential
    if path not in PUBLIC and not path.startswith(("/static/", HOOKS)):
        session = request.cookies.get(COOKIE)
        if service.access.bearer_ok(request.headers.get("Authorization")):
            pass
        elif service.access.session_ok(session):
            if request.method not in ("GET", "HEAD") and not service.access.csrf_ok(
                    session or "", request.headers.get("X-CSRF-Token")):
                return secured(problem(403, "missing or wrong CSRF token"))
        else:
            return secured(problem(401, "unauthorized"))
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = problem(exc.status, exc.reason)
    except UploadRefused as refused:
        response = problem(refused.status, without_paths(str(refused), service.data_dir))
    except BadRequest as bad:
        response = problem(400, without_paths(str(bad), service.data_dir))
    return secured(response)


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
    response = reply(200, session_view(service, session))
    response.set_cookie(COOKIE, session, httponly=True, samesite="Strict", path="/",
                        secure=request.secure)
    return response


async def session_info(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    session = request.cookies.get(COOKIE)
    if not service.access.session_ok(session):
        return reply(200, {"logged_in": False})
    return reply(200, session_view(service, session or ""))


def session_view(service: Service, session: str) -> dict[str, Any]:
    """What the page needs once logged in (by the form, or a session it already has)."""
    return {"logged_in": True, "csrf": service.access.csrf_for(session),
            "quota_per_minute": service.settings.rate_per_minute,
            "max_upload_mb": service.max_upload_bytes // (1 << 20),
            "can_notify": bool(service.notifier.allowed)}


async def logout(request: web.Request) -> web.Response:
    request.app[SERVICE].access.logout(request.cookies.get(COOKIE))
    response = reply(200, {"logged_in": False})
    response.del_cookie(COOKIE, path="/")
    return response


async def campaign_hook(request: web.Request) -> web.Response:
    """A delivery of an enrichment campaign's webhook: answered at once (the work follows)."""
    hooks = request.app[SERVICE].hooks
    if hooks is None:
        return problem(404, "no campaign webhooks here: the service has no legacy API key")
    status, answer = hooks.receive(request.match_info["token"], await request.read())
    return reply(status, answer)


def handle_errors(handler: Handler) -> Handler:
    """LeadGenius's own refusals, in one line, as a 502 (not the service's fault)."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        data_dir = request.app[SERVICE].data_dir
        try:
            return await handler(request)
        except AuthError as error:
            return problem(502, f"LeadGenius refused the service's credentials: {error}")
        except ApiError as error:
            return problem(502, f"LeadGenius answered: {error}")
        except BulkioError as error:
            return problem(502, without_paths(str(error), data_dir))
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
    r.add_post(HOOKS + "{token}", campaign_hook)
    routes: list[tuple[str, str, Handler]] = [
        ("POST", "/leads/import/preview", imports.preview),
        ("POST", "/leads/import/sample", imports.sample),
        ("POST", "/leads/import/summary", imports.summary),
        ("POST", "/leads/import/mappings", imports.save_mapping),
        ("POST", "/leads/import/start", imports.start_import),
        ("GET", "/leads/import/jobs", imports.list_imports),
        ("GET", "/leads/import/jobs/{job_id}", imports.get_import),
        ("POST", "/leads/import/jobs/{job_id}/cancel", imports.cancel),
        ("POST", "/leads/import/jobs/{job_id}/resume", imports.resume),
        ("POST", "/leads/import/jobs/{job_id}/undo", imports.undo),
        ("POST", "/leads/import/jobs/{job_id}/reimport", imports.reimport),
        ("GET", "/leads/import/jobs/{job_id}/rejects", imports.rejects),
        ("POST", "/exports", jobs_routes.start_export),
        ("GET", "/exports/{job_id}/download", jobs_routes.download),
        ("POST", "/purges", jobs_routes.start_purge),
        ("GET", "/clients", jobs_routes.clients),
        ("POST", "/clients", jobs_routes.clients),
        ("GET", "/jobs", jobs_routes.list_jobs),
        ("GET", "/jobs/{job_id}", jobs_routes.get_job),
        ("POST", "/jobs/{job_id}/cancel", imports.cancel),
        ("POST", "/jobs/{job_id}/resume", imports.resume),
        ("GET", "/jobs/{job_id}/events", jobs_routes.events),
    ]
    for method, path, handler in routes:
        r.add_route(method, path, handle_errors(handler))
    return app
