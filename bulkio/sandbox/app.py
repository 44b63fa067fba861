"""The sandbox's routes: the wire contract of docs/api-contract.md, quirks included.

A request passes, in order: latency, authentication (per route), the per-identity quota,
the "before work" chaos dice, the handler, the "after work" dice. Every answer to an
identified caller carries X-RateLimit-* headers. The HubSpot twin's routes (`hubspot/`) pass
the same latency and dice, with HubSpot's own authentication, quota and error shapes.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from . import emails, leads, processing, tokens
from .api_keys import new_key
from .chaos import Fault
from .hubspot import routes as hubspot
from .hubspot.twin import HubSpotTwin
from .legacy import routes as legacy
from .replies import Reply, answer, failure, json_object, required
from .state import CALLER, STATE, Handler, SandboxState
from .store import User

log = logging.getLogger("bulkio.sandbox")

# -- authentication ---------------------------------------------------------------------------

NO_AUTH = {"/api/auth", "/api/auth/refresh"}
API_KEY_ONLY = {"/api/enrich-leads/list", "/api/source-leads/list"}
JWT_ONLY = {"/api/agent-api-keys"}  # a key cannot make keys


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
    if api_key and user_id and request.path not in JWT_ONLY:
        user = state.api_key_user(api_key, user_id)
        if user:
            return user
    if expired:
        raise Reply(failure(401, "Token expired", "token_expired",
                            recommendation="Refresh the access token with POST /api/auth/refresh"))
    hint = ("This endpoint takes only the x-api-key and x-user-id headers" if key_only
            else "Send Authorization: Bearer <accessToken>" if request.path in JWT_ONLY
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
    if legacy.is_legacy(request.path):
        return legacy.fault(int(fault.value))
    if fault is Fault.ERROR_500:
        return failure(500, "Internal server error", "internal_error")
    if fault is Fault.ERROR_503:
        return failure(503, "Service temporarily unavailable", "service_unavailable")
    if fault is Fault.GATEWAY_502:
        return failure(502, "Bad gateway", "bad_gateway")
    return failure(504, "Endpoint request timed out", "gateway_timeout")


@web.middleware
async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await _answer(request, handler)
    if hubspot.is_hubspot(request.path):  # every answer in the twin's own clock
        response.headers["Date"] = request.app[hubspot.TWIN].http_date()
    return response


async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE]
    route = f"{request.method} {request.path}"
    state.bump(route)
    held = state.holds.get(route)
    if held is not None:
        await held.wait()
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
        elif legacy.is_legacy(request.path):
            refusal = legacy.gate(request, request.app[legacy.LEGACY])
            if refusal is not None:
                state.bump(f"legacy:{refusal.status}")
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
        dice = state.chaos.hits(request.method, request.path)
        fault = state.chaos.before_work() if dice else None
        if fault is not None:
            state.bump(f"fault:{fault.value}")
            return fault_response(request, fault)
        response = await handler(request)
        fault = state.chaos.after_work() if dice else None
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


async def create_api_key(request: web.Request) -> web.Response:
    """The key is in this answer only; the listing never shows it."""
    state, user = request.app[STATE], CALLER.get()
    body = await json_object(request)
    name = required(body, "name").strip()
    description = body.get("description")
    key = new_key()
    record = state.api_keys.add(user.id, key, name,
                                description if isinstance(description, str) else "")
    state.bump("api_key_created")
    return answer(201, {"success": True, "apiKey": key, "id": record["id"], "name": name,
                        "createdAt": record["createdAt"]})


async def list_api_keys(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    return answer(200, {"success": True, "apiKeys": state.api_keys.of(user.id)})


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


def create_app(state: SandboxState, twin: HubSpotTwin,
               legacy_twin: legacy.LegacyTwin) -> web.Application:
    app = web.Application(middlewares=[gateway], client_max_size=32 * 1024 * 1024)
    app[STATE] = state
    app[hubspot.TWIN] = twin
    app[legacy.LEGACY] = legacy_twin
    hubspot.add_routes(app)
    legacy.add_routes(app)
    r = app.router
    r.add_post("/api/auth", login)
    r.add_post("/api/auth/refresh", refresh)
    r.add_get("/api/company", get_company)
    r.add_post("/api/agent-api-keys", create_api_key)
    r.add_get("/api/agent-api-keys", list_api_keys)
    r.add_get("/api/clients", get_clients)
    r.add_post("/api/clients", post_client)
    r.add_put("/api/clients", put_client)
    r.add_delete("/api/clients", delete_client)
    leads.add_routes(r)
    processing.add_routes(r)
    emails.add_routes(r)
    return app
