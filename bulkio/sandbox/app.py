"""The sandbox's routes: the wire contract of ../shared/API.md, quirks included.

A request passes, in order: latency, authentication (per route), the per-identity quota,
the "before work" chaos dice, the handler, the "after work" dice. Every answer to an
identified caller carries X-RateLimit-* headers. The HubSpot twin's routes (`hubspot/`) pass
the same latency and dice, with HubSpot's own authentication, quota and error shapes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import orjson
from aiohttp import web

from . import emails, processing, tokens
from .chaos import Fault
from .hubspot import routes as hubspot
from .replies import Reply, answer, failure, int_param, json_object, raw_answer, required
from .state import CALLER, STATE, Handler, SandboxState
from .store import ENRICH, SOURCE, CursorInvalid, User

log = logging.getLogger("bulkio.sandbox")

# Fields the lead schema knows. Anything else (e.g. `phone`) fails the single-lead POST,
# as a GraphQL-backed create does: that is the mechanism behind the seeds' `phone` bug.
LEAD_FIELDS = frozenset("""
client_id firstName lastName fullName email phoneNumber title companyName companyDomain companyUrl
linkedinUrl city country industry notes source status aiLeadScore aiQualification aiJustification
aiRecommendations aiSdrSynthesis leadScore
""".split()) | processing.RESULT_FIELDS
CREATE_FAILED = "Failed to create lead - no data returned"
MAX_BATCH_DELETE = 50

# -- authentication ---------------------------------------------------------------------------

NO_AUTH = {"/api/auth", "/api/auth/refresh"}
API_KEY_ONLY = {"/api/enrich-leads/list", "/api/source-leads/list"}


def identify(request: web.Request, state: SandboxState) -> User:
    """Bearer first, then the API-key pair; the bulk list routes take the API-key pair only."""
    key_only = request.path in API_KEY_ONLY
    expired = False
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer ") and not key_only:
        try:
            user = state.bearer_user(auth[7:].strip())
            if user:
                return user
        except tokens.TokenExpired:
            expired = True
        except tokens.TokenInvalid:
            pass
    api_key, user_id = request.headers.get("x-api-key"), request.headers.get("x-user-id")
    if api_key and user_id:
        user = state.store.user_by_api_key(api_key)
        if user and user.id == user_id:
            return user
    if expired:
        raise Reply(failure(401, "Token expired", "token_expired",
                            recommendation="Refresh the access token with POST /api/auth/refresh"))
    hint = ("This endpoint takes only the x-api-key and x-user-id headers" if key_only
            else "Send Authorization: Bearer <accessToken>, or x-api-key with x-user-id")
    raise Reply(failure(401, "No valid credentials", "no_valid_credentials", recommendation=hint))


def drop_connection(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=599)  # never reaches the caller


def fault_response(request: web.Request, fault: Fault) -> web.Response:
    if fault is Fault.DROP:
        return drop_connection(request)
    if hubspot.is_hubspot(request.path):
        return hubspot.fault(int(fault.value))
    if fault is Fault.ERROR_500:
        return failure(500, "Internal server error", "internal_error")
    if fault is Fault.ERROR_503:
        return failure(503, "Service temporarily unavailable", "service_unavailable")
    if fault is Fault.GATEWAY_502:
        return failure(502, "Bad gateway", "bad_gateway")
    return failure(504, "Endpoint request timed out", "gateway_timeout")


@web.middleware
async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    state.bump(f"{request.method} {request.path}")
    delay = state.chaos.latency()
    if delay:
        await asyncio.sleep(delay)
    rate_headers: dict[str, str] = {}
    try:
        if hubspot.is_hubspot(request.path):
            rate_headers, refusal = hubspot.gate(request, request.app[hubspot.TWIN])
            if refusal is not None:
                state.bump(f"hubspot:{refusal.status}")
                return refusal
        elif request.path not in NO_AUTH and request.path.startswith("/api/"):
            user = identify(request, state)
            CALLER.set(user)
            verdict = state.quota.check(user.id, state.config.quota_per_minute)
            if verdict is not None:
                rate_headers = verdict.headers()
                if not verdict.allowed:
                    state.bump("429")
                    return failure(429, "Rate limit exceeded", "rate_limited",
                                   recommendation=f"Retry after {verdict.retry_after} s",
                                   headers=rate_headers)
        fault = state.chaos.before_work()
        if fault is not None:
            state.bump(f"fault:{fault.value}")
            return fault_response(request, fault)
        response = await handler(request)
        fault = state.chaos.after_work()
        if fault is not None:
            state.bump(f"lost:{fault.value}")
            return fault_response(request, fault)
    except Reply as reply:
        response = reply.response
    except web.HTTPNotFound:
        response = failure(404, f"No route {request.method} {request.path}", "not_found")
    except web.HTTPMethodNotAllowed:
        response = failure(405, f"Method {request.method} not allowed here", "invalid_value")
    except ConnectionError:  # the caller hung up mid-request: nobody to answer
        state.bump("client_disconnected")
        return drop_connection(request)
    except Exception:
        log.exception("sandbox handler failed")
        response = failure(500, "Internal server error", "internal_error")
    response.headers.update(rate_headers)
    return response


# -- identity -----------------------------------------------------------------------------------


def token_answer(state: SandboxState, user: User, refresh_token: str) -> web.Response:
    ttl = state.config.token_ttl
    secret = state.store.secret
    return answer(200, {"success": True, "tokens": {
        "accessToken": tokens.issue(user.id, secret, ttl, "access"),
        "idToken": tokens.issue(user.id, secret, ttl, "id", email=user.email),
        "refreshToken": refresh_token,
        "expiresIn": int(ttl),
    }})


async def login(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_object(request)
    user = state.store.user_by_email(str(body.get("username", "")))
    state.bump("login")
    if user is None or body.get("password") != user.password:
        return failure(401, "Incorrect username or password", "invalid_credentials")
    return token_answer(state, user, state.store.issue_refresh_token(user.id))


async def refresh(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = await json_object(request)
    token = str(body.get("refreshToken", ""))
    user_id = state.store.user_for_refresh_token(token)
    user = state.store.user_by_id(user_id) if user_id else None
    state.bump("refresh")
    if user is None:
        return failure(401, "Refresh token is invalid or revoked", "no_valid_tokens",
                       recommendation="Log in again with POST /api/auth")
    return token_answer(state, user, token)  # Cognito-like: the refresh token stays the same


async def get_company(request: web.Request) -> web.Response:
    user = CALLER.get()
    return answer(200, {"success": True, "company": request.app[STATE].store.company(user.company_id)})


# -- clients ------------------------------------------------------------------------------------

CLIENT_FIELDS = ("clientName", "companyURL", "description")


async def get_clients(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    ident = request.query.get("clientId")
    if ident:
        client = state.store.find_client(user.company_id, ident)
        if client is None:
            return failure(404, f"Client {ident} not found", "not_found")
        return answer(200, {"success": True, "clients": [client]})
    return answer(200, {"success": True, "clients": state.store.list_clients(user.company_id)})


async def post_client(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    body = await json_object(request)
    required(body, "clientName")
    fields = {k: body[k] for k in CLIENT_FIELDS if isinstance(body.get(k), str) and body[k]}
    client = state.store.create_client(user.company_id, user.id, fields)
    return answer(201, {"success": True, "client": client})


async def put_client(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    body = await json_object(request)
    client_uuid = required(body, "id")
    client = state.store.update_client(user.company_id, client_uuid, body)
    if client is None:
        return failure(404, f"Client {client_uuid} not found", "not_found",
                       recommendation="Use the client's id (UUID), not its client_id slug")
    return answer(200, {"success": True, "client": client})


async def delete_client(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    client_uuid = required(request.query, "id")
    client = state.store.client_by_uuid(user.company_id, client_uuid)
    if client is None:
        return failure(404, f"Client {client_uuid} not found", "not_found",
                       recommendation="Use the client's id (UUID), not its client_id slug")
    slug = str(client["client_id"])
    if request.query.get("purge", "").lower() == "true":
        limit = state.config.purge_limit
        if state.store.count_leads(user.company_id, slug) > limit:
            # The real endpoint deletes until its gateway gives up: some leads go, the client stays.
            state.store.delete_client_leads(user.company_id, slug, limit)
            return failure(504, "Endpoint request timed out", "gateway_timeout",
                           recommendation="Delete the leads in batches of 50 first")
        state.store.delete_client_leads(user.company_id, slug, limit + 1)
    state.store.delete_client(user.company_id, client_uuid)
    return answer(200, {"success": True})


# -- leads --------------------------------------------------------------------------------------


def lead_problem(lead: Any, creating: bool) -> str | None:
    """Why the single-lead POST (or an update) would fail; None if it is acceptable."""
    if not isinstance(lead, dict):
        return "a lead must be a JSON object"
    for key, value in lead.items():
        if key == "id" and not creating:
            continue
        if key not in LEAD_FIELDS:
            return f"unknown field {key!r}"
        if isinstance(value, (dict, list)):
            return f"field {key!r} must be a scalar"
        if value == "":
            return f"field {key!r} is an empty string"
    if creating:
        if not isinstance(lead.get("client_id"), str) or not lead["client_id"]:
            return "client_id is required"
        for name in ("firstName", "lastName"):
            value = lead.get(name)
            if not isinstance(value, str) or not value.strip():
                return f"{name} is required"
    last = lead.get("lastName")
    if isinstance(last, str) and len(last.strip()) == 1 and not last.strip().isalnum() \
            and last.strip() != "-":
        return "lastName cannot be a lone punctuation mark"
    return None


async def get_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    client_id = required(request.query, "client_id")
    limit = int_param(request, "limit", 100, 1, 1000)
    token = request.query.get("nextToken") or request.query.get("lastKey")
    try:
        page = state.store.page(ENRICH, user.company_id, client_id, limit, token)
    except CursorInvalid:
        return failure(400, "Invalid pagination token", "invalid_value")
    # The documented bug: `total` is the size of this page, not the client's lead count.
    return raw_answer(200, '{"success":true,"leads":[' + ",".join(page.items_json)
                      + f'],"total":{len(page.items_json)},"{state.config.cursor_name}":'
                      + orjson.dumps(page.next_token).decode() + "}")


async def post_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    body = await json_object(request)
    if isinstance(body.get("leads"), list):
        return batch_create(state, user, body["leads"])
    problem = lead_problem(body, creating=True)
    if problem:
        # Faithful to production: the answer does not say which rule was broken.
        state.bump(f"create_failed:{problem}")
        return failure(500, CREATE_FAILED, "internal_error")
    fields = {k: v for k, v in body.items() if v is not None}
    if not state.chaos.keep(state.config.single_persist):
        # Rehearsal knob: a 201 for a lead that is not stored, to exercise verification.
        state.bump("single_not_persisted")
        return answer(201, {"success": True, "lead": {"id": f"lead-{uuid.uuid4()}", **fields}})
    return answer(201, {"success": True, "lead": state.store.insert_lead(user.company_id, user.id, fields)})


def batch_create(state: SandboxState, user: User, leads: list[Any]) -> web.Response:
    """The batch POST bug: counts every valid lead as created, and stores the ones the dice
    keep (--batch-persist, --batch-drop-mode), after --batch-persist-delay-ms if set."""
    valid, skipped = [], []
    for index, lead in enumerate(leads):
        problem = lead_problem(lead, creating=True)
        if problem:
            skipped.append({"index": index, "reason": problem})
        else:
            valid.append({k: v for k, v in lead.items() if v is not None})
    kept = [valid[i] for i in state.chaos.batch_kept(len(valid))]
    state.counts["batch_leads_dropped"] += len(valid) - len(kept)

    def store() -> None:
        for fields in kept:
            state.store.insert_lead(user.company_id, user.id, fields)
        state.bump("batch_stored")

    delay = state.chaos.batch_delay() if kept else 0.0
    if delay:  # stored late: after the 201, after a listing may have said it is not there
        asyncio.get_running_loop().call_later(delay, store)
    else:
        store()
    return answer(201, {"success": True, "created": len(valid), "skipped": skipped})


async def put_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    body = await json_object(request)
    if isinstance(body.get("leads"), list):
        updated = 0
        for item in body["leads"]:
            if isinstance(item, dict) and isinstance(item.get("id"), str) \
                    and lead_problem(item, creating=False) is None \
                    and state.store.update_lead(user.company_id, item["id"], item) is not None:
                updated += 1
        return answer(200, {"success": True, "updated": updated})
    lead_id = required(body, "id")
    problem = lead_problem(body, creating=False)
    if problem:
        return failure(400, f"Invalid update: {problem}", "invalid_value")
    lead = state.store.update_lead(user.company_id, lead_id, body)
    if lead is None:
        return failure(404, f"Lead {lead_id} not found", "not_found")
    return answer(200, {"success": True, "lead": lead})


async def delete_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    lead_id = request.query.get("id")
    if lead_id:
        if state.store.delete_leads(user.company_id, [lead_id]) == 0:
            return failure(404, f"Lead {lead_id} not found", "not_found")
        return answer(200, {"success": True})
    body = await json_object(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return failure(400, "ids must be a non-empty list of lead ids", "missing_required_field")
    if len(ids) > MAX_BATCH_DELETE:
        return failure(400, f"At most {MAX_BATCH_DELETE} ids per request", "invalid_value")
    # Quirk: `deleted` can be lower than the ids sent; with the knob, some are silently kept.
    doomed = [i for i in ids if not state.chaos.keep(state.config.batch_delete_drop)]
    deleted = state.store.delete_leads(user.company_id, doomed)
    state.bump("batch_delete_done")  # for tests: counted once the work is done, not on arrival
    return answer(200, {"success": True, "deleted": deleted})


# -- bulk extraction (API key) ------------------------------------------------------------------


def bulk_list(kind: int) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        state, user = request.app[STATE], CALLER.get()
        company_id = required(request.query, "companyId")
        if company_id != user.company_id:
            return failure(403, "companyId does not belong to this identity",
                           "insufficient_permissions")
        client = request.query.get("clientId") or None
        if client is not None and client.upper() in ("ALL", "DEFAULT"):
            client = None
        limit = int_param(request, "limit", 1000, 1, 5000)
        fields = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
        bad = [f for f in fields if not state.store.valid_field_name(f)]
        if bad:
            return failure(400, f"Invalid field name {bad[0]!r}", "invalid_value")
        token = request.query.get("nextToken") or None
        # Quirk knob: a server that repeats a record across pages (clients must drop it).
        repeat = bool(token) and not state.chaos.keep(1.0 - state.config.page_repeat)
        if repeat:
            state.bump("page_repeated")
        try:
            page = state.store.page(kind, company_id, client, limit, token, fields or None,
                                    repeat_last=repeat)
        except CursorInvalid:
            return failure(400, "Invalid nextToken", "invalid_value")
        inner = ('"items":[' + ",".join(page.items_json) + '],"nextToken":'
                 + orjson.dumps(page.next_token).decode())
        if state.config.envelope == "wrapped":
            return raw_answer(200, '{"success":true,"data":{' + inner + "}}")
        return raw_answer(200, '{"success":true,' + inner + "}")

    return handler


def create_app(state: SandboxState, twin: hubspot.HubSpotTwin) -> web.Application:
    app = web.Application(middlewares=[gateway], client_max_size=32 * 1024 * 1024)
    app[STATE] = state
    app[hubspot.TWIN] = twin
    hubspot.add_routes(app)
    r = app.router
    r.add_post("/api/auth", login)
    r.add_post("/api/auth/refresh", refresh)
    r.add_get("/api/company", get_company)
    r.add_get("/api/clients", get_clients)
    r.add_post("/api/clients", post_client)
    r.add_put("/api/clients", put_client)
    r.add_delete("/api/clients", delete_client)
    r.add_get("/api/leads", get_leads)
    r.add_post("/api/leads", post_leads)
    r.add_put("/api/leads", put_leads)
    r.add_delete("/api/leads", delete_leads)
    r.add_get("/api/enrich-leads/list", bulk_list(ENRICH))
    r.add_get("/api/source-leads/list", bulk_list(SOURCE))
    processing.add_routes(r)
    emails.add_routes(r)
    return app
