"""What the service's routes share: the service's parts, answers, reading requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from ..errors import UnknownClient
from ..leadgenius.client import open_client
from ..leadgenius.settings import Settings
from .access import Access
from .campaign_hooks import CampaignHooks
from .mappings import BadRequest
from .notify import Notifier
from .runner import Runner
from .store import ServiceStore

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
    keep_days: float = 30.0  # --keep-days: how long lead data is kept (0: always)
    # set when the service stops: event streams end at once (they held the shutdown)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    notifier: Notifier = field(default_factory=lambda: Notifier([], ""))
    hooks: CampaignHooks | None = None  # enrichment campaigns' webhooks (a legacy key given)

    def stop_streams(self) -> None:
        self.stopping.set()
        for event in self.changed.values():
            event.set()


SERVICE: web.AppKey[Service] = web.AppKey("service", Service)


def via(request: web.Request) -> str:
    """Who started a job: "api" (the bearer token) or "page" (a session), for the history."""
    service = request.app[SERVICE]
    return "api" if service.access.bearer_ok(request.headers.get("Authorization")) else "page"


def reply(status: int, body: Any) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def problem(status: int, message: str) -> web.Response:
    return reply(status, {"error": message, "status": status})



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


async def resolve_client(service: Service, ident: Any) -> str:
    if not isinstance(ident, str) or not ident.strip():
        raise BadRequest("client (the LeadGenius client's slug) is required")
    try:
        async with open_client(service.settings) as api:
            return (await api.resolve_client(ident.strip())).slug
    except UnknownClient as error:
        raise BadRequest(str(error)) from None


def secured(response: web.StreamResponse) -> web.StreamResponse:
    """Every answer: no framing, no sniffing, no referrer, no caching, only our own files."""
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    return response
