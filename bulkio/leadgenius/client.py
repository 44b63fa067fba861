"""The LeadGenius Pro API, one method per endpoint, for import, export and purge alike.

Each attempt of each request takes, in order: a quota slot, the auth headers, the transport.
Retries wrap the whole attempt, so every attempt pays its slot. Envelopes (flat or wrapped
bulk lists, `nextToken` or `lastKey`) are read here so nothing above has to care.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson

from ..errors import ApiError, AuthError, BulkioError, ConfigError, Unauthorized, UnknownClient
from ..http.quota import Quota
from ..http.redact import register_secret
from ..http.retry import RetryPolicy, call_with_retries
from ..http.stats import RunStats
from ..http.transport import AiohttpTransport, Request, ServerWatch, Transport, open_session
from ..models import Client, LeadKind, Page
from .auth import Authenticator, AuthMode
from .processing import ProcessingCalls
from .settings import Settings
from .wire import error_for, success_body

log = logging.getLogger("bulkio.client")

FIRST_CONTACT_S = 10.0  # how long a first request may go unanswered (at most --timeout)
MAX_BATCH_DELETE = 50
MAX_LEAD_PAGE = 1000
MAX_BULK_PAGE = 5000


class LeadGeniusClient(ProcessingCalls):
    """Talks to one LeadGenius deployment for one run.

    Example:
        async with open_client(resolve_settings()) as client:
            for c in await client.list_clients():
                print(c.slug, c.name)
    """

    def __init__(self, settings: Settings, transport: Transport, *, quota: Quota | None = None,
                 policy: RetryPolicy | None = None, stats: RunStats | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.stats = stats or RunStats()
        self.quota = quota or Quota(settings.rate_per_minute, wall=wall)
        self.policy = policy or RetryPolicy()
        self.transport = transport
        self.watch = transport if isinstance(transport, ServerWatch) else None
        self.auth = Authenticator(settings, transport, self.policy, self.stats, wall=wall)
        self._company_id = settings.company_id

    # -- the request path -------------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      body: Any = None, auth: AuthMode = AuthMode.JWT,
                      idempotent: bool = True) -> dict[str, Any]:
        """Send one API call with quota, auth and retries; the decoded success body.

        Raises ApiError (and subclasses) for error answers, AuthError, TransportError when
        retries run out, OutcomeUnknown for a non-idempotent call that may have been applied.
        """
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        payload = orjson.dumps(body) if body is not None else None
        url = self.settings.base_url + path
        sent_with: dict[str, str | None] = {"token": None}
        renewed = False

        async def attempt() -> dict[str, Any]:
            if not self.quota.is_open:
                await self.quota.acquire()
            headers, sent_with["token"] = await self.auth.headers(auth)
            self.stats.requests += 1
            resp = await self.transport.send(Request(method, url, query or None, payload, headers))
            self.quota.observe(resp.status, resp.headers)
            if resp.status == 429:
                self.stats.rate_limited += 1
            if not resp.ok:
                raise error_for(resp, method, path)
            return success_body(resp, method, path)

        async def recover(error: BulkioError) -> bool:
            # One renewal per call: a second 401 means these credentials are not welcome.
            nonlocal renewed
            if isinstance(error, Unauthorized) and sent_with["token"] and not renewed \
                    and self.auth.can_renew:
                renewed = True
                await self.auth.renew(stale=sent_with["token"])
                return True
            return False

        try:
            return await call_with_retries(self.policy, attempt, idempotent=idempotent,
                                           what=(method, path), recover=recover,
                                           on_retry=self.stats.retry_counter(log, method, path))
        except Unauthorized as error:
            raise AuthError(self._refusal(error, sent_with["token"], renewed)) from None

    def _refusal(self, error: Unauthorized, token: str | None, renewed: bool) -> str:
        """What a 401 means for the person running bulkio, and what to do about it."""
        said = f"({error.message})" if error.message else ""
        if token is None:
            return (f"the API key was refused {said}: check LEADGENIUS_API_KEY and "
                    "LEADGENIUS_USER_ID, or run `bulkio auth login --api-key`")
        if renewed:
            return (f"the credentials were refused even with a fresh token {said}: run "
                    "`bulkio auth login` (is this account allowed here?)")
        return (f"the access token was refused (invalid, expired or revoked) {said}, and there "
                "is no refresh token or password to get another: run `bulkio auth login`")

    def waiting_s(self) -> float:
        """How long requests have been out with no answer coming back (0: answers flow)."""
        return self.watch.waiting_s() if self.watch is not None else 0.0

    # -- identity ---------------------------------------------------------------------------

    async def get_company(self) -> dict[str, Any]:
        company = (await self.request("GET", "/api/company")).get("company")
        return company if isinstance(company, dict) else {}

    async def company_id(self) -> str:
        """LEADGENIUS_COMPANY_ID when set, else what GET /api/company says (asked once)."""
        if not self._company_id:
            company_id = (await self.get_company()).get("company_id")
            if not company_id:
                raise ConfigError("the API did not say which company you belong to; "
                                  "set LEADGENIUS_COMPANY_ID")
            self._company_id = str(company_id)
        return self._company_id

    async def list_api_keys(self) -> list[dict[str, Any]]:
        """The account's API keys, by name (the listing never holds the keys themselves)."""
        keys = (await self.request("GET", "/api/agent-api-keys")).get("apiKeys") or []
        return [k for k in keys if isinstance(k, dict)]

    async def create_api_key(self, name: str, description: str = "") -> dict[str, Any]:
        """POST /api/agent-api-keys: `apiKey` is in this answer only. Not idempotent: a lost
        answer raises OutcomeUnknown (a key may have been made that nobody will see)."""
        answer = await self.request("POST", "/api/agent-api-keys", idempotent=False,
                                    body={"name": name, "description": description})
        key = answer.get("apiKey")
        if not isinstance(key, str) or not key:
            raise ApiError(201, "the answer holds no apiKey", method="POST",
                           path="/api/agent-api-keys")
        register_secret(key)
        return answer

    # -- clients ----------------------------------------------------------------------------

    async def list_clients(self) -> list[Client]:
        clients = (await self.request("GET", "/api/clients")).get("clients") or []
        return [Client.from_api(c) for c in clients if isinstance(c, dict)]

    async def create_client(self, name: str, *, url: str | None = None,
                            description: str | None = None) -> Client:
        """POST /api/clients. Not idempotent: a lost answer raises OutcomeUnknown."""
        body = {"clientName": name, "companyURL": url, "description": description}
        answer = await self.request("POST", "/api/clients", idempotent=False,
                                    body={k: v for k, v in body.items() if v})
        return Client.from_api(answer["client"])

    async def update_client(self, client_uuid: str, **changes: Any) -> Client:
        answer = await self.request("PUT", "/api/clients", body={"id": client_uuid, **changes})
        return Client.from_api(answer["client"])

    async def delete_client(self, client_uuid: str, *, purge: bool = False) -> None:
        """DELETE /api/clients by the client's UUID. purge=True times out above ~1,000 leads."""
        params = {"id": client_uuid, "purge": "true" if purge else None}
        await self.request("DELETE", "/api/clients", params=params)

    async def resolve_client(self, ident: str) -> Client:
        """The client named by its slug or, with a warning, by its UUID; UnknownClient if none.

        Leads are always filed under the slug: a lead sent with the UUID is stored but never
        listed ("invisible leads"), so a UUID is translated here, once, for the whole run.
        """
        clients = await self.list_clients()
        for client in clients:
            if client.slug == ident:
                return client
        for client in clients:
            if client.id == ident:
                log.warning("%r is the internal id of client %r; using its slug %r, under which "
                            "leads are listed", ident, client.name, client.slug)
                return client
        raise UnknownClient(ident, [c.slug for c in clients])

    # -- leads (JWT) ------------------------------------------------------------------------

    async def list_leads(self, client_slug: str, *, limit: int = 100,
                         cursor: str | None = None) -> Page:
        """One page of GET /api/leads. Its `total` is the page size (a known bug): not used."""
        params = {"client_id": client_slug, "limit": min(limit, MAX_LEAD_PAGE), "nextToken": cursor}
        answer = await self.request("GET", "/api/leads", params=params)
        token = answer.get("nextToken") or answer.get("lastKey")
        return Page(_records(answer.get("leads")), str(token) if token else None)

    async def lead_pages(self, client_slug: str, *, fields: Sequence[str] | None = None,
                         cursor: str | None = None) -> AsyncIterator[Page]:
        """Every page of a client's leads (from `cursor` on), from the fastest endpoint these
        credentials reach.

        With an API key: the bulk list, 5,000 a page, projected onto `fields` (plus `id`).
        Without: the JWT lead list, 1,000 full records a page.
        """
        while True:
            if self.auth.has_api_key:
                page = await self.bulk_page(client_slug=client_slug, fields=fields, cursor=cursor)
            else:
                page = await self.list_leads(client_slug, limit=MAX_LEAD_PAGE, cursor=cursor)
            yield page
            if not page.next_token:
                return
            cursor = page.next_token

    async def count_leads(self, client_slug: str) -> int:
        """How many leads a client holds, counted by paging (the API's `total` is unreliable)."""
        return sum([len(page.items) async for page in self.lead_pages(client_slug, fields=["id"])])

    async def create_lead(self, lead: Mapping[str, Any]) -> dict[str, Any]:
        """The single-lead POST: its 201 carries the stored lead.

        Raises LeadRejected for the validation 500 or a 4xx, OutcomeUnknown when the answer
        was lost and the lead may exist.
        """
        answer = await self.request("POST", "/api/leads", body=dict(lead), idempotent=False)
        created = answer.get("lead")
        return created if isinstance(created, dict) else {}

    async def create_leads(self, leads: Sequence[Mapping[str, Any]]) -> dict[int, str]:
        """The batch POST. Its 201 is a claim, not a fact: it counts every lead it did not
        skip as created whether it stored them or not (a known bug of the API), so only the
        client's listing can say. Returns what it says it skipped: {index: reason}.

        Raises like `create_lead` (OutcomeUnknown: the answer was lost).
        """
        self.stats.batch_requests += 1
        answer = await self.request("POST", "/api/leads", body={"leads": [dict(x) for x in leads]},
                                    idempotent=False)
        skipped: dict[int, str] = {}
        for item in answer.get("skipped") or []:
            if isinstance(item, dict) and isinstance(item.get("index"), int):
                skipped[item["index"]] = str(item.get("reason") or "skipped by the batch POST")
        return skipped

    async def update_lead(self, lead_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        answer = await self.request("PUT", "/api/leads", body={**changes, "id": lead_id})
        lead = answer.get("lead")
        return lead if isinstance(lead, dict) else {}

    async def update_leads(self, items: Sequence[Mapping[str, Any]]) -> int:
        """The batch PUT (it does persist); each item carries its `id`. Returns `updated`."""
        answer = await self.request("PUT", "/api/leads", body={"leads": [dict(i) for i in items]})
        return int(answer.get("updated") or 0)

    async def delete_lead(self, lead_id: str) -> None:
        await self.request("DELETE", "/api/leads", params={"id": lead_id})

    async def delete_leads(self, lead_ids: Sequence[str]) -> int:
        """Batch DELETE of at most 50 ids. Returns `deleted`, which can be below len(lead_ids)."""
        if not 0 < len(lead_ids) <= MAX_BATCH_DELETE:
            raise ValueError(f"a batch delete takes 1 to {MAX_BATCH_DELETE} ids, not {len(lead_ids)}")
        answer = await self.request("DELETE", "/api/leads", body={"ids": list(lead_ids)})
        return int(answer.get("deleted") or 0)

    # -- bulk extraction (API key) ----------------------------------------------------------

    async def bulk_page(self, kind: LeadKind = LeadKind.ENRICH, *, client_slug: str | None = None,
                        limit: int = MAX_BULK_PAGE, cursor: str | None = None,
                        fields: Sequence[str] | None = None) -> Page:
        """One page of /api/{enrich,source}-leads/list; `client_slug=None` means every client.

        Accepts the flat and the wrapped (`data: {...}`) envelope.
        """
        params = {"companyId": await self.company_id(), "clientId": client_slug or "ALL",
                  "limit": min(limit, MAX_BULK_PAGE), "nextToken": cursor,
                  "fields": ",".join(fields) if fields else None}
        answer = await self.request("GET", f"/api/{kind.value}/list", params=params,
                                    auth=AuthMode.API_KEY)
        data = answer.get("data")
        inner: dict[str, Any] = data if isinstance(data, dict) else answer
        token = inner.get("nextToken")
        return Page(_records(inner.get("items")), str(token) if token else None)


def _records(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ApiError(200, "the answer's list of records is missing")
    if set(map(type, value)) - {dict}:  # only records are kept
        return [r for r in value if isinstance(r, dict)]
    return value


@asynccontextmanager
async def open_client(settings: Settings, *, stats: RunStats | None = None,
                      policy: RetryPolicy | None = None) -> AsyncIterator[LeadGeniusClient]:
    """A client with one aiohttp session for the run, sized to the settings' concurrency."""
    async with open_session(settings.effective_concurrency, settings.timeout) as session:
        transport = ServerWatch(AiohttpTransport(session), settings.base_url,
                                patience=min(settings.timeout, FIRST_CONTACT_S))
        yield LeadGeniusClient(settings, transport, stats=stats, policy=policy)
