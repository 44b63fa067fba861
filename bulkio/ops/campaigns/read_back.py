"""Finding, in the campaign, the records of requests whose answer was lost.

What the API documents, and all this relies on: record ids are integers, ascending in
creation order; a campaign's records are listed in that order, 100 a page, and can be asked
for by id (`?id=`); an upload is stored within 30 s of its arrival or never (`--settle`).

So the records of a request in doubt, if stored, have ids above the newest id known before it
was sent (`floor`) and below the first id of any request of ours sent once it had settled
(`ceiling`; without one, the campaign's newest id now). Between the two, the ids are ours
(known), the request's, or someone else's. When the ids that are not ours are few, they are
asked for by id, 100 a request; when they are many (ids shared with other campaigns, and busy),
the campaign's pages are read from the floor's position up to the ceiling instead.
"""

from __future__ import annotations

from typing import Any

from ...enrichment.client import EnrichmentClient
from ...errors import ApiError

PAGE = 100
MOST_BY_ID = 20  # requests: past this many ids to ask for, read pages instead
KEY_FIELDS = ("contact_record_id", "org_record_id")


class ReadBack:
    def __init__(self, api: EnrichmentClient, campaign: str) -> None:
        self.api = api
        self.campaign = campaign
        self.requests = 0

    async def find(self, keys: dict[str, int], floor: int, ceiling: int, *, before: int,
                   ours: set[int]) -> dict[int, int]:
        """n -> record id of the rows (by key: key -> n) found strictly between `floor` and
        `ceiling`; `ours` are the job's known ids there, `before` how many of the campaign's
        records are known to have ids up to `floor` (where its pages start)."""
        unknown = [i for i in range(floor + 1, ceiling) if i not in ours]
        found: dict[int, int] = {}
        if len(unknown) <= MOST_BY_ID * PAGE:
            for start in range(0, len(unknown), PAGE):
                answer = await self._get(ids=unknown[start:start + PAGE])
                if answer is not None:
                    self._match(answer["results"], keys, floor, ceiling, found)
            return found
        answer = await self._get(page=before // PAGE + 1)
        while answer is not None:
            results = answer["results"]
            self._match(results, keys, floor, ceiling, found)
            link = answer.get("next")
            if not link or (results and int(results[-1].get("id", 0)) >= ceiling):
                break
            answer = await self._get(link=str(link))
        return found

    @staticmethod
    def _match(results: list[dict[str, Any]], keys: dict[str, int], floor: int, ceiling: int,
               found: dict[int, int]) -> None:
        for result in results:
            record_id = int(result.get("id", 0))
            if not floor < record_id < ceiling:
                continue
            data = result.get("data") or {}
            for name in KEY_FIELDS:
                value = data.get(name)  # a record id may be a number (0 included)
                n = keys.get("" if value is None else str(value))
                if n is not None and n not in found:
                    found[n] = record_id
                    break

    async def newest(self) -> int:
        """The campaign's newest record id now (0: none, or no campaign yet)."""
        return (await self.tail())[1]

    async def tail(self) -> tuple[int, int]:
        """(the campaign's records, its newest id) now; (0, 0) before its first upload."""
        first = await self._get()
        if first is None:
            return 0, 0
        count = int(first.get("count") or 0)
        last = first if count <= PAGE else await self._get(page=-(-count // PAGE))
        return count, max((int(r.get("id", 0)) for r in (last or first)["results"]),
                          default=0)

    async def _get(self, *, page: int = 1, ids: list[int] | None = None,
                   link: str | None = None) -> dict[str, Any] | None:
        self.requests += 1
        try:
            if link is not None:
                return await self.api.follow(link)
            return await self.api.records(self.campaign, ids=ids or (), page=page)
        except ApiError as missing:
            if missing.status == 404:  # past the end, or no campaign yet: nothing there
                return None
            raise
