"""HubSpot's API, one method per endpoint bulkio reads: CRM v3 contacts, companies batch read,
and the legacy v1 leads list.

Each attempt of each request takes, in order: a slot of HubSpot's own quota (its rolling
10 seconds, separate from LeadGenius's minute), the token, the transport. Retries are the
same policy as LeadGenius calls (every call here is a read, so always safe to repeat).

What HubSpot says about its quota is obeyed: `X-HubSpot-RateLimit-Max` over
`-Interval-Milliseconds` below our pace slows us to it; `-Remaining: 0` holds every request
until a slot frees; a 429 pauses every request for its `Retry-After`, or the interval; a
429 of the DAILY policy, or `-Daily-Remaining: 0`, stops the run, resumable, saying when the
daily quota resets. An outage that outlasts the retries stops the run the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from ...errors import (
    ApiError,
    AuthError,
    BulkioError,
    Interrupted,
    RateLimited,
    TransientApiError,
    TransportError,
)
from ...http.quota import Quota, header_number, parse_retry_after
from ...http.retry import RetryPolicy, call_with_retries
from ...http.stats import RunStats
from ...http.transport import Request, Transport, watched_transport
from .settings import SCOPES, HubSpotSettings

log = logging.getLogger("bulkio.hubspot")

CONNECTIONS = 8  # HubSpot is paged by one cursor; a few company reads go alongside
DAILY_RESET = "at midnight in your HubSpot account's time zone"
SECONDLY_WAIT_MAX_S = 10.0
SEARCH = "/crm/v3/objects/contacts/search"
LINKS = "/crm/v3/associations/contacts/companies/batch/read"


class HubSpotDailyLimit(Interrupted):
    """HubSpot's daily request quota is used up."""


class HubSpotUnavailable(Interrupted):
    """HubSpot did not answer, through all the retries."""


class HubSpotQuota(Quota):
    """HubSpot's quota: `limit` requests in any 10 seconds, and what its headers say."""

    def __init__(self, limit: int | None) -> None:
        super().__init__(limit, period=10.0)
        self.daily_used_up = False
        self.secondly_refusals = 0  # the search's 429s in a row: each waits twice longer

    async def acquire(self) -> None:
        if self.daily_used_up:
            raise HubSpotDailyLimit(f"HubSpot's daily request quota is used up (it resets "
                                    f"{DAILY_RESET})", when="then")
        await super().acquire()

    def observe_hubspot(self, status: int, headers: Mapping[str, str], body: Any) -> None:
        interval = header_number(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")) or 10_000.0
        policy = body.get("policyName") if isinstance(body, dict) else None
        if status == 429:
            if policy == "DAILY":
                self.daily_used_up = True
                return
            wait = parse_retry_after(headers.get("Retry-After"))
            if wait is None and policy == "SECONDLY":  # the search's own limit: no header
                self.secondly_refusals += 1
                wait = min(SECONDLY_WAIT_MAX_S, 2.0 ** (self.secondly_refusals - 1))
            self.pause(wait if wait is not None else interval / 1000,
                       "HubSpot rate limited (429)")
            return
        if policy is None:
            self.secondly_refusals = 0
        most = header_number(headers.get("X-HubSpot-RateLimit-Max"))
        if most is not None and most >= 1:
            self.slow_to(most, f"HubSpot allows {most:.0f} requests per {interval / 1000:g} s, "
                               f"fewer than {self.limit or 0:.0f} per {self.period:g} s",
                         period=interval / 1000)
        if status != 429 and header_number(headers.get("X-HubSpot-RateLimit-Remaining")) == 0:
            self.pause(interval / 1000 / max(most or 100.0, 1.0), "HubSpot's window is full")
        if header_number(headers.get("X-HubSpot-RateLimit-Daily-Remaining")) == 0:
            self.daily_used_up = True


class ServerClock:
    """HubSpot's clock against this machine's, as its `Date` headers tell it (HubSpot does not
    document its clock): `offset_low`, a lower bound of HubSpot's time minus ours, in seconds
    (a Date is stamped, to the second, before its answer arrives); None until one is read."""

    def __init__(self) -> None:
        self.offset_low: float | None = None

    def observe(self, date: str | None, received_at: float) -> None:
        if not date:
            return
        try:
            stamped = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        low = stamped - received_at
        self.offset_low = low if self.offset_low is None else max(self.offset_low, low)


class HubSpotClient:
    """Reads one HubSpot portal for one run (its own session, quota and counters)."""

    def __init__(self, settings: HubSpotSettings, transport: Transport, *,
                 policy: RetryPolicy | None = None, quota: HubSpotQuota | None = None) -> None:
        self.settings = settings
        self.transport = transport
        self.policy = policy or RetryPolicy()
        self.quota = quota or HubSpotQuota(settings.rate_per_10s)
        self.search_quota = Quota(settings.search_rate_per_s, period=1.0)
        self.stats = RunStats()
        self.clock = ServerClock()

    async def call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                   body: Any = None, token_in_query: bool = False) -> Any:
        """One HubSpot call, retried; its decoded body. AuthError (a refused token, a missing
        scope), ApiError, or Interrupted (the daily quota, an outage)."""
        query = dict(params or {})
        headers = {"Content-Type": "application/json"}
        if token_in_query:  # the legacy v1 API's way (the token is a registered secret)
            query["access_token"] = self.settings.token
        else:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        request = Request(method, self.settings.base_url + path, query or None,
                          orjson.dumps(body) if body is not None else None, headers)

        async def attempt() -> Any:
            await self.quota.acquire()
            self.stats.requests += 1
            resp = await self.transport.send(request)
            self.clock.observe(resp.headers.get("Date"), time.time())
            log.debug("%s %s: HTTP %d", method, path, resp.status)  # never the query: v1's token
            answer = resp.json()
            self.quota.observe_hubspot(resp.status, resp.headers, answer)
            if resp.status == 429:
                self.stats.rate_limited += 1
                if self.quota.daily_used_up:
                    await self.quota.acquire()  # raises: the day's quota is gone
                raise RateLimited(0.0, method=method, path=path)
            if resp.ok:
                return answer
            raise _error(resp.status, answer, method, path)

        try:
            return await call_with_retries(self.policy, attempt, what=(method, path),
                                           on_retry=self.stats.retry_counter(log, method, path))
        except (TransportError, TransientApiError) as error:
            raise HubSpotUnavailable(f"HubSpot did not answer {method} {path} through "
                                     f"{self.policy.attempts} tries ({error})",
                                     when="later") from None

    # -- endpoints ------------------------------------------------------------------------------

    async def contacts(self, *, after: str | None, properties: Sequence[str],
                       limit: int = 100, archived: bool = False) -> dict[str, Any]:
        """A page of the live contacts with their companies, or (`archived`) of the archived
        ones, which HubSpot lists with `archivedAt` and no date filter."""
        params = {"limit": str(limit), "properties": ",".join(properties),
                  **({"archived": "true"} if archived else {"associations": "companies"}),
                  **({"after": after} if after else {})}
        answer = await self.call("GET", "/crm/v3/objects/contacts", params=params)
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise ApiError(200, "the contacts page has no results list", method="GET",
                           path="/crm/v3/objects/contacts")
        return answer

    async def search_contacts(self, body: dict[str, Any]) -> dict[str, Any]:
        """One page of the CRM search (its own limit a second, beside the 10-second one)."""
        await self.search_quota.acquire()
        answer = await self.call("POST", SEARCH, body=body)
        if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
            raise ApiError(200, "the search page has no results list", method="POST",
                           path=SEARCH)
        return answer

    async def company_links(self, contact_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """At most 100 contacts' companies, as the contacts list shows them ({"id", "type"}
        each); a contact without companies is absent."""
        answer = await self.call("POST", LINKS, body={"inputs": [{"id": i} for i in contact_ids]})
        results = answer.get("results") if isinstance(answer, dict) else None
        links: dict[str, list[dict[str, Any]]] = {}
        for result in results or []:
            source = (result.get("from") or {}).get("id") if isinstance(result, dict) else None
            if source is not None:
                links[str(source)] = [t for t in result.get("to") or [] if isinstance(t, dict)]
        return links

    async def companies(self, ids: Sequence[str], properties: Sequence[str]) -> list[dict[str, Any]]:
        """At most 100 companies by id; unknown ids are simply absent."""
        answer = await self.call("POST", "/crm/v3/objects/companies/batch/read",
                                 body={"properties": list(properties),
                                       "inputs": [{"id": i} for i in ids]})
        results = answer.get("results") if isinstance(answer, dict) else None
        return [r for r in results or [] if isinstance(r, dict)]

    async def v1_leads(self, *, offset: int, max_: int = 100, start_ms: int | None = None,
                       stop_ms: int | None = None) -> list[dict[str, Any]]:
        """A page of the legacy leads list, oldest first."""
        params = {"max": str(max_), "offset": str(offset), "sort": "insertedAt", "dir": "asc",
                  "timePivot": "insertedAt", "excludeConversionEvents": "true"}
        if start_ms is not None:
            params["startTime"] = str(start_ms)
        if stop_ms is not None:
            params["stopTime"] = str(stop_ms)
        answer = await self.call("GET", "/leads/v1/list", params=params, token_in_query=True)
        if not isinstance(answer, list):
            raise ApiError(200, "the v1 leads list is not a JSON array", method="GET",
                           path="/leads/v1/list")
        return [lead for lead in answer if isinstance(lead, dict)]


def _error(status: int, body: Any, method: str, path: str) -> BulkioError:
    detail = body if isinstance(body, dict) else {}
    message = str(detail.get("message") or f"HTTP {status}")
    category = str(detail.get("category") or "")
    if status == 401:
        return AuthError(f"HubSpot refused the access token ({category or 'HTTP 401'}): check "
                         "HUBSPOT_ACCESS_TOKEN (or --hubspot-token-file), a private-app token")
    if status == 403:
        needed = [scope for error in detail.get("errors") or () if isinstance(error, dict)
                  for scope in (error.get("context") or {}).get("requiredGranularScopes") or ()]
        scopes = ", ".join(needed) if needed else " or ".join(SCOPES)
        return AuthError(f"HubSpot's private app lacks the scope {scopes} ({category or 'HTTP 403'}"
                         f" on {method} {path}): add it under the app's Scopes, then run again")
    if status >= 500:
        return TransientApiError(status, message, category, method=method, path=path)
    return ApiError(status, message, category, method=method, path=path)


@asynccontextmanager
async def open_hubspot(settings: HubSpotSettings, *, policy: RetryPolicy | None = None
                       ) -> AsyncIterator[HubSpotClient]:
    """A HubSpot client with its own aiohttp session for the run."""
    async with watched_transport(settings.base_url, connections=CONNECTIONS,
                                 timeout=settings.timeout,
                                 setting="--hubspot-base-url, or HUBSPOT_BASE_URL") as transport:
        yield HubSpotClient(settings, transport, policy=policy)
