"""The legacy enrichment API's routes (`--legacy-campaigns`), on the sandbox's own port:
`POST /api/v1/enrichment/upload/`, `GET /api/v1/enrichment/retrieve/<slug>/`,
`GET /api/v1/enrichment/status/` and `POST /api/v1/exclusion/upload/`.

Its own key (`Authorization: Token <key>`, the scheme's case as the documentation's examples
write it), its own quota (50 requests a minute per key, `--legacy-rate`), Django REST
framework's error bodies (`{"detail": ...}`). Records are finalized `--legacy-enrich-seconds`
after their upload, by a ticker that also POSTs each campaign's webhook, with the real
world's mess as knobs: deliveries lost (`--legacy-webhook-loss`) or sent twice
(`--legacy-webhook-dupes`), and late and out of order by nature (each waits a random moment).
Webhooks go to loopback addresses only: the sandbox calls nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp import web

from ..config import SandboxConfig
from ..ratelimit import SlidingWindowQuota
from .fields import Invalid, check_exclusions, check_upload
from .store import LegacyStore

log = logging.getLogger("bulkio.sandbox")
PREFIX = "/api/v1/"
TICK_S = 0.2


@dataclass
class LegacyTwin:
    store: LegacyStore
    config: SandboxConfig
    key: str
    rng: random.Random
    quota: SlidingWindowQuota = field(default_factory=SlidingWindowQuota)
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # sent (tests read them)
    _sending: set[asyncio.Task[None]] = field(default_factory=set)


LEGACY: web.AppKey[LegacyTwin] = web.AppKey("legacy", LegacyTwin)


def is_legacy(path: str) -> bool:
    return path.startswith(PREFIX)


def detail(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps({"detail": text}),
                        content_type="application/json", headers=headers)


def fault(status: int) -> web.Response:
    return detail(status, "A server error occurred." if status < 502
                  else "Service temporarily unavailable, try again later.")


def gate(request: web.Request, twin: LegacyTwin) -> web.Response | None:
    """The twin switched on, the key, the quota: a refusal, or None."""
    if not twin.config.legacy_campaigns:
        return detail(404, "Not found.")
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if not scheme:
        return detail(401, "Authentication credentials were not provided.")
    if scheme.lower() != "token" or key.strip() != twin.key:
        return detail(401, "Invalid token.")
    twin.quota.window = twin.config.legacy_window_s
    verdict = twin.quota.check(twin.key, twin.config.legacy_rate)
    if verdict is not None and not verdict.allowed:
        wait = max(1, verdict.retry_after)
        return detail(429, f"Request was throttled. Expected available in {wait} seconds.",
                      {"Retry-After": str(wait)})
    return None


async def _json(request: web.Request) -> Any:
    try:
        return orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        raise Invalid({"detail": "JSON parse error - Expecting value."}) from None


def _invalid(bad: Invalid) -> web.Response:
    return web.Response(status=400, body=orjson.dumps(bad.body), content_type="application/json")


async def upload(request: web.Request) -> web.Response:
    twin = request.app[LEGACY]
    try:
        body = await _json(request)
        existing = twin.store.campaign(str(body.get("slug"))) if isinstance(body, dict) else None
        slug, kind, fields, records = check_upload(
            body, existing["type"] if existing else None,
            frozenset(existing["fields"]) if existing else frozenset())
        left = twin.store.remaining(time.time())
        if len(records) > left:
            raise Invalid({"records": [f"Monthly allowance exceeded: {left} left."]})
    except Invalid as bad:
        return _invalid(bad)
    webhook = body.get("webhook_url") or None
    ids = twin.store.upload(slug, kind, fields, webhook, records, twin.rng,
                            twin.config.legacy_enrich_seconds,
                            twin.rng.uniform(*twin.config.legacy_store_lag_s),
                            twin.config.legacy_id_gaps)
    return web.Response(status=201, content_type="application/json", body=orjson.dumps(
        {"slug": slug, "type": kind, "uploaded": len(ids), "ids": ids}))


async def retrieve(request: web.Request) -> web.Response:
    twin = request.app[LEGACY]
    finalize(twin, time.time())
    slug = request.match_info["slug"]
    if twin.store.campaign(slug) is None:
        return detail(404, "Not found.")
    try:
        ids = [int(v) for v in request.query.getall("id", [])]
        number = int(request.query.get("page", "1"))
    except ValueError:
        return detail(404, "Invalid page.")
    total, results = twin.store.page(slug, ids, number, time.time())
    last = max(1, -(-total // 100))
    if number < 1 or number > last:
        return detail(404, "Invalid page.")
    uploaded, enriched = twin.store.counts(slug)

    def link(page: int) -> str | None:
        if not 1 <= page <= last:
            return None
        # built from the relative URL: request.url fails on a host with a port in the
        # oldest aiohttp/yarl pair allowed
        relative = request.rel_url.update_query({"page": str(page)})
        return f"{request.scheme}://{request.host}{relative}"

    return web.Response(content_type="application/json", body=orjson.dumps({
        "count": total, "next": link(number + 1), "previous": link(number - 1),
        "results": results, "count_uploaded": uploaded, "count_enriched": enriched}))


async def status(request: web.Request) -> web.Response:
    twin = request.app[LEGACY]
    now = time.time()
    finalize(twin, now)
    return web.Response(content_type="application/json", body=orjson.dumps(twin.store.usage(now)))


async def exclusions(request: web.Request) -> web.Response:
    twin = request.app[LEGACY]
    try:
        records = check_exclusions(await _json(request))
    except Invalid as bad:
        return _invalid(bad)
    twin.store.exclude(records)
    return web.Response(status=201, content_type="application/json",
                        body=orjson.dumps({"uploaded": len(records)}))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/enrichment/upload/", upload)
    r.add_get("/api/v1/enrichment/retrieve/{slug}/", retrieve)
    r.add_get("/api/v1/enrichment/retrieve/{slug}", retrieve)  # as the examples call it
    r.add_get("/api/v1/enrichment/status/", status)
    r.add_post("/api/v1/exclusion/upload/", exclusions)
    app.cleanup_ctx.append(_ticking)


# -- enrichment over time, and its webhooks ----------------------------------------------------


async def _ticking(app: web.Application) -> AsyncIterator[None]:
    twin = app[LEGACY]
    task = asyncio.ensure_future(_tick_forever(twin)) if twin.config.legacy_campaigns else None
    yield
    if task is not None:
        task.cancel()
        for pending in [task, *twin._sending]:
            pending.cancel()
        await asyncio.gather(task, *twin._sending, return_exceptions=True)


def finalize(twin: LegacyTwin, now: float) -> None:
    """Finalize the records whose time has come, and announce them to their campaign's
    webhook: from the ticker, and before any answer that shows records."""
    for done in twin.store.finalize_due(now):
        campaign = twin.store.campaign(done.slug)
        url = campaign and campaign["webhook_url"]
        if url:
            uploaded, enriched = twin.store.counts(done.slug)
            _deliver(twin, url, {"slug": done.slug, "records": done.ids,
                                 "uploaded": uploaded, "enriched": enriched,
                                 "complete": uploaded == enriched})


async def _tick_forever(twin: LegacyTwin) -> None:
    while True:
        try:
            finalize(twin, time.time())
        except Exception:  # the ticker outlives a bad moment, as a server would
            log.exception("legacy twin: finalizing failed")
        await asyncio.sleep(TICK_S)


def _deliver(twin: LegacyTwin, url: str, payload: dict[str, Any]) -> None:
    c = twin.config
    if twin.rng.random() < c.legacy_webhook_loss:
        twin.deliveries.append({**payload, "lost": True})
        return
    copies = 2 if twin.rng.random() < c.legacy_webhook_dupes else 1
    for _ in range(copies):
        task = asyncio.ensure_future(_post(twin, url, payload, twin.rng.uniform(0, 0.5)))
        twin._sending.add(task)
        task.add_done_callback(twin._sending.discard)


async def _post(twin: LegacyTwin, url: str, payload: dict[str, Any], delay: float) -> None:
    await asyncio.sleep(delay)  # late, and so out of order with the others
    host = urlsplit(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        log.warning("legacy twin: webhook %s is not a loopback address: not called", host)
        return
    twin.deliveries.append(payload)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http, \
                http.post(url, json=payload) as answer:
            await answer.read()
    except (aiohttp.ClientError, TimeoutError) as error:
        log.info("legacy twin: webhook delivery failed (%s)", type(error).__name__)
