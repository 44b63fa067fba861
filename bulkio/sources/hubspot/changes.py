"""The contacts a HubSpot portal changed since a moment, every one of them, through the CRM
search: `lastmodifieddate >= since`, sorted by `hs_object_id`, paged by keyset (the next page
is `hs_object_id > the last id seen`, ids compared as numbers), 200 a page, until a page comes
back empty. Never by `after`: the search stops at its 10,000th result, and a bulk edit can
stamp more contacts than that with one moment. A page shorter than asked for, with or without
a `next` link, is not the end; only an empty one is.

`newest` is the latest `lastmodifieddate` among what was read: the next run's mark is the
earlier of it and the moment this run began (a change made while it ran is read again next
time), less the lookback that absorbs the search's lag.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .client import HubSpotClient
from .contacts import CompanyCache, companies_by_id, primary_company

PAGE = 200
LINKS_A_REQUEST = 100


def moment_ms(value: Any) -> int | None:
    """A HubSpot date property (ISO, or epoch milliseconds) in epoch milliseconds."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


@dataclass
class ChangeReader:
    """With a `cache`, each contact comes with its companies (`associations`, as the contacts
    list gives them: the search gives none) and its primary company's properties
    (`_company`), exactly as `import hubspot:contacts` reads them."""

    client: HubSpotClient
    properties: Sequence[str]
    cache: CompanyCache | None = None
    company_properties: Sequence[str] = ()
    pages: int = 0
    newest: int | None = None  # the latest lastmodifieddate read, epoch ms

    async def since(self, since_ms: int, after_id: int = 0
                    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of the contacts modified at or after `since_ms`, in id order (those above
        `after_id`: a read interrupted there goes on)."""
        last = after_id
        wanted = sorted({*self.properties, "lastmodifieddate", "hs_merged_object_ids"})
        while True:
            filters = [{"propertyName": "lastmodifieddate", "operator": "GTE",
                        "value": str(since_ms)}]
            if last:
                filters.append({"propertyName": "hs_object_id", "operator": "GT",
                                "value": str(last)})
            answer = await self.client.search_contacts({
                "filterGroups": [{"filters": filters}], "limit": PAGE, "properties": wanted,
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]})
            self.pages += 1
            results = [r for r in answer["results"] if str(r.get("id", "")).isdigit()]
            if not results:
                return
            for result in results:
                moment = moment_ms((result.get("properties") or {}).get("lastmodifieddate"))
                if moment is not None and (self.newest is None or moment > self.newest):
                    self.newest = moment
            if self.cache is not None:
                await self._with_companies(results, self.cache)
            yield results
            last = max(last, *(int(r["id"]) for r in results))

    async def _with_companies(self, contacts: list[dict[str, Any]], cache: CompanyCache
                              ) -> None:
        ids = [str(c["id"]) for c in contacts]
        links: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), LINKS_A_REQUEST):
            links.update(await self.client.company_links(ids[start:start + LINKS_A_REQUEST]))
        for contact in contacts:
            contact["associations"] = {"companies": {"results": links.get(str(contact["id"]),
                                                                          [])}}
        companies = await companies_by_id(
            self.client, cache, {cid for c in contacts if (cid := primary_company(c))},
            self.company_properties)
        for contact in contacts:
            contact["_company"] = companies.get(primary_company(contact) or "")
