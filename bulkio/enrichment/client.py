"""The legacy enrichment API, one method per endpoint bulkio calls.

Each attempt takes a slot of the API's own quota (50 requests a minute per key, shared by
every call of the process), then the transport; reads are retried under the same policy as
every other call. A 429 pauses every request for its Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from ..errors import (
    ApiError,
    AuthError,
    BulkioError,
    OutcomeUnknown,
    RateLimited,
    TransientApiError,
)
from ..http.quota import Quota, parse_retry_after
from ..http.retry import RetryPolicy, call_with_retries
from ..http.stats import RunStats
from ..http.transport import Request, Transport, watched_transport
from .settings import EnrichmentSettings

log = logging.getLogger("bulkio.enrichment")
CONNECTIONS = 4


class EnrichmentClient:
    def __init__(self, settings: EnrichmentSettings, transport: Transport, *,
                 policy: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.transport = transport
        self.policy = policy or RetryPolicy()
        self.quota = Quota(settings.rate_per_minute)
        self.stats = RunStats()

    async def call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                   body: Any = None, query: str = "", idempotent: bool = True) -> Any:
        """One call, retried while that is safe; its decoded body. A call that is not
        `idempotent` (an upload) is repeated only when it certainly did not take effect; when
        it may have, OutcomeUnknown goes up (http.retry)."""
        headers = {"Authorization": f"Token {self.settings.key}",
                   "Content-Type": "application/json"}
        # `query`: a query string of repeated names (?id=1&id=2), which a mapping cannot hold
        url = self.settings.base_url + path + (f"?{query}" if query else "")
        request = Request(method, url, params or None,
                          orjson.dumps(body) if body is not None else None, headers)

        async def attempt() -> Any:
            await self.quota.acquire()
            self.stats.requests += 1
            resp = await self.transport.send(request)
            answer = resp.json()
            if resp.status == 429:
                self.stats.rate_limited += 1
                wait = parse_retry_after(resp.headers.get("Retry-After")) or 60.0
                self.quota.pause(wait, "the legacy enrichment API rate limited (429)")
                raise RateLimited(wait, method=method, path=path)
            if resp.ok:
                return answer
            raise _error(resp.status, answer, method, path)

        return await call_with_retries(
            self.policy, attempt, what=(method, path), idempotent=idempotent,
            on_retry=self.stats.retry_counter(log, method, path))

    async def usage(self) -> dict[str, Any]:
        """The subscription's usage: totals, and the current period's with `remaining`."""
        answer = await self.call("GET", "/api/v1/enrichment/status/")
        if not isinstance(answer, dict) or not isinstance(answer.get("current_period"), dict):
            raise ApiError(200, "the usage has no current_period", method="GET",
                           path="/api/v1/enrichment/status/")
        return answer

    async def upload(self, slug: str, kind: str, fields: Sequence[str],
                     records: list[dict[str, Any]], webhook_url: str | None = None
                     ) -> list[int]:
        """Add up to 200 records to a campaign (created by its first upload); their record
        ids, in order. Not idempotent: every record sent is a record, paid from the
        allowance; a lost answer raises OutcomeUnknown, to be looked up, never re-sent."""
        body: dict[str, Any] = {"slug": slug, "type": kind, "records": records}
        if fields:
            body["fields"] = list(fields)
        if webhook_url:
            body["webhook_url"] = webhook_url
        path = "/api/v1/enrichment/upload/"
        answer = await self.call("POST", path, body=body, idempotent=False)
        ids = answer.get("ids") if isinstance(answer, dict) else None
        if not isinstance(ids, list) or len(ids) != len(records):  # stored, ids unknown
            raise OutcomeUnknown(ApiError(201, f"the answer has {len(ids or [])} ids for "
                                          f"{len(records)} records"), "POST", path)
        return [int(i) for i in ids]

    async def exclude(self, records: list[dict[str, str]]) -> int:
        """Add up to 200 records to the exclusion list; how many it took. Sending a batch
        again after a lost answer is harmless: an exclusion added twice changes nothing."""
        answer = await self.call("POST", "/api/v1/exclusion/upload/", body={"records": records})
        return int(answer.get("uploaded") or 0) if isinstance(answer, dict) else 0

    async def records(self, slug: str, *, ids: Sequence[int] = (), page: int = 1
                      ) -> dict[str, Any]:
        """One page (100) of a campaign's records, in creation order; ApiError 404 for an
        unknown campaign."""
        pairs = [("id", str(i)) for i in ids] + ([("page", str(page))] if page > 1 else [])
        path = f"/api/v1/enrichment/retrieve/{quote(slug, safe='')}/"
        answer = await self.call("GET", path, query=urlencode(pairs))
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise ApiError(200, "the campaign's page has no results", method="GET", path=path)
        return answer


    async def follow(self, link: str) -> dict[str, Any]:
        """The page a `next` or `previous` link names, as given; only on the API's own
        origin (the key goes with every request)."""
        base, url = urlsplit(self.settings.base_url), urlsplit(link)
        if (url.scheme, url.netloc) != (base.scheme, base.netloc):
            raise ApiError(200, f"a page's link leads off {base.scheme}://{base.netloc} "
                           f"({url.scheme}://{url.netloc}): not followed")
        prefix = base.path.rstrip("/")
        path = url.path[len(prefix):] if prefix and url.path.startswith(prefix) else url.path
        answer = await self.call("GET", path, query=url.query)
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise ApiError(200, "the campaign's page has no results", method="GET", path=path)
        return answer


def said(body: Any) -> str | None:
    """What an error body says, in its own words: its `detail`, or each field's errors
    ("type: "foo" is not a valid choice.")."""
    if not isinstance(body, dict) or not body:
        return None
    if "detail" in body:
        return str(body["detail"])
    return "; ".join(f"{name}: {' '.join(map(str, errors))}" if isinstance(errors, list)
                     else f"{name}: {errors}" for name, errors in body.items())


def _error(status: int, body: Any, method: str, path: str) -> BulkioError:
    message = said(body) or (orjson.dumps(body).decode() if body else f"HTTP {status}")
    if status == 401:
        return AuthError(f"the legacy enrichment API refused the key ({message}): check "
                         "LEADGENIUS_LEGACY_API_KEY (or --legacy-key-file)")
    if status >= 500:
        return TransientApiError(status, message, method=method, path=path)
    return ApiError(status, message, method=method, path=path)


@asynccontextmanager
async def open_enrichment(settings: EnrichmentSettings, *, policy: RetryPolicy | None = None
                          ) -> AsyncIterator[EnrichmentClient]:
    """A client with its own aiohttp session for the run."""
    async with watched_transport(settings.base_url, connections=CONNECTIONS,
                                 timeout=settings.timeout, setting="--legacy-base-url, or "
                                 "LEADGENIUS_LEGACY_BASE_URL") as transport:
        yield EnrichmentClient(settings, transport, policy=policy)
