"""`hubspot:contacts`: CRM v3 contacts with their associated companies, as records.

Pages of 100 contacts come by HubSpot's `after` cursor (never parsed); while one page's
records are mapped and sent, the next page is already being fetched. Each contact's company
is its primary association (`contact_to_company`), else its first; companies are read 100 ids
a request, several requests at once, each company once per job: the job's database caches
them (misses too), so memory stays flat whatever the portal's size.

A record's values are keyed by HubSpot property name (so --mapping overrides by them), the
company's as `company.<property>`, in the order that makes the guide's mapping fall out of
"the first non-empty column wins": `phone` before `mobilephone`, the associated company's
`name` before the contact's own `company` property (its Bug #5: that one is usually empty).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import anyio
import orjson

from ..records import Record
from .client import HubSpotClient

CONTACT_PROPERTIES = ("firstname", "lastname", "email", "jobtitle", "phone", "mobilephone",
                      "company", "lifecyclestage", "hs_lead_status")
COMPANY_PROPERTIES = ("name", "domain", "industry")
LABELS = {"lifecyclestage": "Lifecycle stage", "hs_lead_status": "Lead status",
          "company.industry": "Industry", "company.name": "Company", "company.domain": "Domain"}
PRIMARY = "contact_to_company"  # HubSpot's association type for the primary company
PAGE = 100
BATCH_READ = 100


class CompanyCache(Protocol):
    """Companies already read in this job (the journal's cache table, through its thread)."""

    async def cached(self, ids: list[str]) -> dict[str, dict[str, Any]]: ...
    async def cache(self, companies: Mapping[str, dict[str, Any]]) -> None: ...


class ContactRecords:
    format = "ndjson"  # the rejects file: one JSON object a contact
    is_async: Literal[True] = True
    unmapped_to_notes = True  # the guide appends lifecycle stage, lead status, industry
    names = None
    repeated_names: list[tuple[str, list[int]]] = []  # noqa: RUF012 - read only
    empty_rows = 0
    labels = LABELS

    def __init__(self, client: HubSpotClient, cache: CompanyCache, *,
                 properties: Sequence[str] = (), company_properties: Sequence[str] = ()) -> None:
        self.client = client
        self.cache = cache
        self.properties, self.company_properties, self.columns = contact_columns(
            properties, company_properties)
        self._buffer: deque[Record] = deque()
        self._cursor: str | None = None  # fetches the page being handed out
        self._next: str | None = None  # fetches the page after it
        self._done = False
        self._ahead: asyncio.Task[tuple[list[dict[str, Any]], str | None]] | None = None
        self._rowno = 0

    # -- the reader protocol ------------------------------------------------------------------

    async def read_batch(self, size: int) -> list[Record]:
        """Up to `size` records of the page in hand: a page goes on to be sent as soon as it
        is here (and a failure to fetch the next one never holds records already read)."""
        while not self._buffer and not self._done:
            await self._next_page()
        return [self._buffer.popleft() for _ in range(min(size, len(self._buffer)))]

    def position(self) -> dict[str, Any]:
        """The cursor of the page still being handed out (its records read again on a resume
        are repeats, dropped by id), or of the next page once this one is all out."""
        if self._buffer:
            return {"after": self._cursor, "done": False}
        return {"after": self._next, "done": self._done}

    async def resume(self, position: Mapping[str, Any], rowno: int) -> None:
        self._cursor = self._next = position.get("after")
        self._done = bool(position.get("done"))
        self._rowno = rowno

    async def probe(self) -> None:
        """One contact and its company read: the token and both scopes work (AuthError in one
        line otherwise), before anything else of the run happens."""
        answer = await self.client.contacts(after=None, properties=self.properties, limit=1)
        for contact in answer["results"][:1]:
            if company := primary_company(contact):
                await self.client.companies([company], self.company_properties)

    def describe(self) -> str:
        return (f"HubSpot CRM contacts with their companies ({len(self.properties)} contact and "
                f"{len(self.company_properties)} company properties)")

    async def aclose(self) -> None:
        if self._ahead is not None:
            self._ahead.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(self._ahead, return_exceptions=True)

    # -- pages --------------------------------------------------------------------------------

    async def _next_page(self) -> None:
        page = self._ahead or asyncio.ensure_future(self._fetch(self._next))
        self._ahead = None
        self._cursor = self._next
        contacts, self._next = await page
        self._done = self._next is None
        if not self._done:  # the next page is fetched while this one is mapped and sent
            self._ahead = asyncio.ensure_future(self._fetch(self._next))
        for contact in contacts:
            self._rowno += 1
            self._buffer.append(self._record(contact))

    async def _fetch(self, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        answer = await self.client.contacts(after=after, properties=self.properties, limit=PAGE)
        contacts = [c for c in answer["results"] if isinstance(c, dict) and c.get("id")]
        paging = answer.get("paging") or {}
        following = (paging.get("next") or {}).get("after") if isinstance(paging, dict) else None
        companies = await self._companies({cid for c in contacts if (cid := primary_company(c))})
        for contact in contacts:
            contact["_company"] = companies.get(primary_company(contact) or "")
        return contacts, str(following) if following else None

    async def _companies(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        return await companies_by_id(self.client, self.cache, ids, self.company_properties)

    def _record(self, contact: dict[str, Any]) -> Record:
        return record_of(contact, self.columns, self._rowno)


async def companies_by_id(client: HubSpotClient, cache: CompanyCache, ids: set[str],
                          properties: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The companies by id: from the job's cache, else read (and cached, misses too)."""
    wanted = sorted(ids)
    known = await cache.cached(wanted)
    missing = [i for i in wanted if i not in known]
    if missing:
        chunks = [missing[i:i + BATCH_READ] for i in range(0, len(missing), BATCH_READ)]
        read = await asyncio.gather(*(client.companies(chunk, properties) for chunk in chunks))
        fresh = {i: {} for i in missing} | {
            str(c["id"]): c.get("properties") or {} for results in read for c in results}
        await cache.cache(fresh)
        known.update(fresh)
    return known


def record_of(contact: dict[str, Any], columns: Sequence[str], rowno: int) -> Record:
    """A contact (with its company in `_company`) as a record: values by column, the
    company's as `company.<property>`; its key the contact's id."""
    props = contact.get("properties") or {}
    company = contact.get("_company") or {}
    values: dict[str, Any] = {}
    for column in columns:
        if column.startswith("company."):
            values[column] = company.get(column[len("company."):])
        else:
            values[column] = props.get(column)
    hubspot_id = str(contact["id"])
    raw = orjson.dumps({"_hubspot_id": hubspot_id,
                        **{k: v for k, v in values.items() if v not in (None, "")}}).decode()
    return Record(rowno, values, raw, key=hubspot_id)


def primary_company(contact: dict[str, Any]) -> str | None:
    """The id of the contact's primary company (`contact_to_company`), else of its first."""
    links = ((contact.get("associations") or {}).get("companies") or {}).get("results") or []
    ids = [(str(link["id"]), link.get("type")) for link in links
           if isinstance(link, dict) and link.get("id")]
    for company, kind in ids:
        if kind == PRIMARY:
            return company
    return ids[0][0] if ids else None


def contact_columns(properties: Sequence[str] = (), company_properties: Sequence[str] = ()
                    ) -> tuple[list[str], list[str], list[str]]:
    """The contact properties and company properties read (the usual ones and those asked
    for), and the record's columns."""
    contact = list(dict.fromkeys([*CONTACT_PROPERTIES, *properties]))
    company = list(dict.fromkeys([*COMPANY_PROPERTIES, *company_properties]))
    return contact, company, _ordered(contact, company)


def _ordered(properties: list[str], company_properties: list[str]) -> list[str]:
    """The columns in the order the mapping wants them (see the module's docstring)."""
    first = ["firstname", "lastname", "email", "jobtitle", "phone", "mobilephone", "company.name",
             "company", "company.domain", "lifecyclestage", "hs_lead_status", "company.industry"]
    rest = [p for p in properties if p not in first]
    company_rest = [f"company.{p}" for p in company_properties if f"company.{p}" not in first]
    return [*first, *rest, *company_rest]
