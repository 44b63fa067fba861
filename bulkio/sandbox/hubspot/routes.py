"""The HubSpot twin's routes, on the sandbox's own port: `GET /crm/v3/objects/contacts`,
`POST /crm/v3/objects/companies/batch/read` and `GET /leads/v1/list`.

Answers have HubSpot's shapes (docs/api-contract.md): errors are `{"status": "error", "message",
"correlationId", "category"}`; a private-app token goes in `Authorization: Bearer`, or, for
the legacy v1 list, as `access_token` in the query string. The quota is HubSpot's: a rolling
10-second window per token (`--hubspot-rate`) and an optional daily cap, with the
`X-HubSpot-RateLimit-*` headers and its 429 body naming the policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from aiohttp import web

from .churn import churn_forever
from .search import SearchInvalid, search
from .seed import new_v1_leads
from .store import BadCursor
from .twin import HubSpotTwin

PREFIXES = ("/crm/v3/", "/leads/v1/")
CONTACTS_SCOPE = "crm.objects.contacts.read"
COMPANIES_SCOPE = "crm.objects.companies.read"
LINKS = "/crm/v3/associations/contacts/companies/batch/read"
SCOPES = {"/crm/v3/objects/contacts": CONTACTS_SCOPE, "/leads/v1/list": CONTACTS_SCOPE,
          LINKS: CONTACTS_SCOPE,
          "/crm/v3/objects/contacts/search": CONTACTS_SCOPE,
          "/crm/v3/objects/companies/batch/read": COMPANIES_SCOPE}
DEFAULT_PROPERTIES = ("firstname", "lastname", "email")
UNCAPPED_DAILY = 1_000_000  # the daily cap shown when --hubspot-daily sets none (HubSpot always sends it)


TWIN: web.AppKey[HubSpotTwin] = web.AppKey("hubspot", HubSpotTwin)


def is_hubspot(path: str) -> bool:
    return path.startswith(PREFIXES)


def error(status: int, message: str, category: str, **extra: Any) -> web.Response:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category, **extra}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def gate(request: web.Request, twin: HubSpotTwin) -> tuple[dict[str, str], web.Response | None]:
    """Authentication, scopes and quota: (rate headers, a refusal or None)."""
    if twin.config.hubspot_down:
        return {}, fault(503)
    auth = request.headers.get("Authorization", "")
    token = auth[7:].strip() if auth.startswith("Bearer ") else request.query.get("access_token")
    if token != twin.token:
        return {}, error(401, "Authentication credentials not found. This API supports OAuth 2.0 "
                              "authentication and you can find more details at "
                              "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                         "INVALID_AUTHENTICATION")
    scope = SCOPES.get(request.path)
    if scope is not None and scope not in twin.config.hubspot_scopes:
        return {}, error(403, "This app hasn't been granted all required scopes to make this "
                              "call. Read more about required scopes here: "
                              "https://developers.hubspot.com/scopes.", "MISSING_SCOPES",
                         errors=[{"message": "One or more of the following scopes are required.",
                                  "context": {"requiredGranularScopes": [scope]}}])
    c = twin.config
    daily = c.hubspot_daily if c.hubspot_daily is not None else UNCAPPED_DAILY
    left = max(0, daily - twin.used_today)
    headers = {"X-HubSpot-RateLimit-Daily": str(daily),
               "X-HubSpot-RateLimit-Daily-Remaining": str(left)}
    if left == 0:
        return headers, _rate_limited(headers, "DAILY", "You have reached your daily limit.")
    twin.quota.window = c.hubspot_interval_ms / 1000
    verdict = twin.quota.check(token, c.hubspot_rate)
    if verdict is not None:
        headers.update({"X-HubSpot-RateLimit-Interval-Milliseconds": str(c.hubspot_interval_ms),
                        "X-HubSpot-RateLimit-Max": str(verdict.limit),
                        "X-HubSpot-RateLimit-Remaining": str(max(0, verdict.remaining))})
        if not verdict.allowed:
            headers["Retry-After"] = str(verdict.retry_after)  # when a slot frees
            return headers, _rate_limited(headers, "TEN_SECONDLY_ROLLING",
                                          "You have reached your ten_secondly_rolling limit.")
    twin.used_today += 1
    headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily - twin.used_today)
    return headers, None


def _rate_limited(headers: dict[str, str], policy: str, message: str) -> web.Response:
    response = error(429, message, "RATE_LIMITS", errorType="RATE_LIMIT", policyName=policy)
    response.headers.update(headers)
    return response


def fault(status: int) -> web.Response:
    """A transient failure, as HubSpot's edge sends one."""
    return error(status, "An internal error occurred", "INTERNAL_ERROR" if status < 502 else
                 "BAD_GATEWAY" if status == 502 else "SERVICE_UNAVAILABLE" if status == 503
                 else "GATEWAY_TIMEOUT")


class BadInput(Exception):
    """A query parameter HubSpot would refuse: answered 400 by the route."""


def _int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name, "")
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadInput(f"{name} must be a whole number, not {text!r}") from None
    return max(low, min(value, high))


def _names(text: str | None, default: Sequence[str]) -> list[str]:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or list(default)


async def list_contacts(request: web.Request) -> web.Response:
    twin = request.app[TWIN]
    try:
        limit = _int(request, "limit", 10, 1, 100)
    except BadInput as bad:
        return error(400, str(bad), "VALIDATION_ERROR")
    properties = _names(request.query.get("properties"), DEFAULT_PROPERTIES)
    with_companies = "companies" in _names(request.query.get("associations"), ())
    archived = request.query.get("archived", "false").lower() == "true"
    try:
        page = twin.store.contacts_page(request.query.get("after") or None, limit, properties,
                                        with_companies, archived)
    except BadCursor:
        return error(400, "Invalid input: after is not a cursor this API gave", "VALIDATION_ERROR")
    body: dict[str, Any] = {"results": page.results}
    if page.after is not None:
        body["paging"] = {"next": {"after": page.after,
                                   "link": f"?after={page.after}"}}
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def search_contacts(request: web.Request) -> web.Response:
    twin = request.app[TWIN]
    verdict = twin.search_quota.check(twin.token, twin.config.hubspot_search_rate)
    if verdict is not None and not verdict.allowed:
        response = _rate_limited({"Retry-After": str(verdict.retry_after)}, "SECONDLY",
                                 "You have reached your secondly limit.")
        return response
    try:
        answer = search(twin.store, orjson.loads(await request.read()), twin.now_ms(),
                        page_cap=twin.config.hubspot_search_page_cap)
    except orjson.JSONDecodeError:
        return error(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
    except SearchInvalid as bad:
        return error(400, str(bad), "VALIDATION_ERROR")
    twin.searches += 1
    return web.Response(body=orjson.dumps(answer), content_type="application/json")


async def batch_read_links(request: web.Request) -> web.Response:
    """POST /crm/v3/associations/contacts/companies/batch/read: each contact's companies."""
    twin = request.app[TWIN]
    try:
        inputs = [str(item["id"]) for item in orjson.loads(await request.read())["inputs"]]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return error(400, "Invalid input JSON: expected inputs: [{id}]", "VALIDATION_ERROR")
    if len(inputs) > 1000:
        return error(400, "A batch read takes at most 1000 inputs", "VALIDATION_ERROR")
    started = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    results, missing = twin.store.company_links(inputs)
    answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                              "completedAt": started}
    if missing:
        answer.update(numErrors=1, errors=[{
            "status": "error", "category": "OBJECT_NOT_FOUND",
            "message": "No associations found", "context": {"ids": missing}}])
    return web.Response(status=207 if missing else 200, body=orjson.dumps(answer),
                        content_type="application/json")


async def batch_read_companies(request: web.Request) -> web.Response:
    twin = request.app[TWIN]
    try:
        body = orjson.loads(await request.read())
        inputs = [str(item["id"]) for item in body["inputs"]]
        properties = [str(p) for p in body.get("properties") or ()] or ["name", "domain"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return error(400, "Invalid input JSON: expected inputs: [{id}]", "VALIDATION_ERROR")
    if len(inputs) > 100:
        return error(400, "A batch read takes at most 100 inputs", "VALIDATION_ERROR")
    started = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    results, missing = twin.store.companies(inputs, properties)
    answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started,
                              "completedAt": started}
    if missing:
        answer.update(numErrors=1, errors=[{
            "status": "error", "category": "OBJECT_NOT_FOUND",
            "message": "Could not get some COMPANY objects, they may be deleted or not exist. "
                       "Check that ids are valid.", "context": {"ids": missing}}])
    return web.Response(status=207 if missing else 200, body=orjson.dumps(answer),
                        content_type="application/json")


async def list_v1_leads(request: web.Request) -> web.Response:
    twin = request.app[TWIN]
    if twin.inserted < twin.config.hubspot_insert_during_paging:
        # The list grows while it is paged: a lead arrives with each request, at its newest end.
        now_ms = max(int(time.time() * 1000), twin.store.newest_v1() + 1)
        twin.store.add_v1_leads(new_v1_leads(twin.rng, 1, now_ms, 5_000_000 + twin.inserted))
        twin.inserted += 1
    pivot = request.query.get("timePivot", "insertedAt")
    if pivot != "insertedAt":
        return error(400, "this twin pivots time on insertedAt only", "VALIDATION_ERROR")
    try:
        offset, max_ = _int(request, "offset", 0, 0, 10**12), _int(request, "max", 10, 1, 100)
        start = _int(request, "startTime", -1, 0, 10**15)
        stop = _int(request, "stopTime", -1, 0, 10**15)
    except BadInput as bad:
        return error(400, str(bad), "VALIDATION_ERROR")
    leads = twin.store.v1_page(offset=offset, max_=max_, start_ms=start if start >= 0 else None,
                               stop_ms=stop if stop >= 0 else None,
                               descending=request.query.get("dir", "desc").lower() != "asc")
    return web.Response(body=orjson.dumps(leads), content_type="application/json")


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_churning)
    app.router.add_get("/crm/v3/objects/contacts", list_contacts)
    app.router.add_post("/crm/v3/objects/contacts/search", search_contacts)
    app.router.add_post("/crm/v3/objects/companies/batch/read", batch_read_companies)
    app.router.add_post(LINKS, batch_read_links)
    app.router.add_get("/leads/v1/list", list_v1_leads)


async def _churning(app: web.Application) -> AsyncIterator[None]:
    twin = app[TWIN]
    task = asyncio.ensure_future(churn_forever(twin)) if twin.config.hubspot_churn else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
