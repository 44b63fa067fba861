"""Reading a portal's changes through HubSpot's CRM search (sources.hubspot.changes), against
the twin over HTTP: past the 10,000-result wall, a bulk edit of 12,000 contacts sharing one
moment, the search's own limit a second without a storm of 429s; and, with a stub, a short
page with a `next` link and ids "9" and "10"."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from bulkio.sandbox import Sandbox
from bulkio.sources.hubspot.changes import ChangeReader
from bulkio.sources.hubspot.client import HubSpotClient, open_hubspot
from bulkio.sources.hubspot.contacts import ContactRecords, record_of
from bulkio.sources.hubspot.settings import HubSpotSettings
from bulkio.store.source_cache import CompanyCache
from tests.conftest import MakeSandbox

pytestmark = pytest.mark.slow  # a portal of 25,000 contacts


@asynccontextmanager
async def reader(sb: Sandbox, search_rate: int | None) -> AsyncIterator[ChangeReader]:
    settings = HubSpotSettings(base_url=sb.base_url, token=sb.hubspot_token, rate_per_10s=None,
                               search_rate_per_s=search_rate)
    async with open_hubspot(settings) as client:
        yield ChangeReader(client, ["email"])


async def read_ids(changes: ChangeReader, since: int) -> list[int]:
    return [int(r["id"]) async for page in changes.since(since) for r in page]


async def test_past_the_wall_and_a_bulk_edit(make_sandbox: MakeSandbox) -> None:
    async with make_sandbox(hubspot_contacts=25_000, hubspot_bulk_edit=12_000,
                            hubspot_rate=None, hubspot_search_rate=None) as sb, reader(sb, None) as changes:
        assert await read_ids(changes, 0) == list(range(1, 25_001))  # each once, in order
        assert changes.pages == 126  # 125 full pages, then the empty one that ends it
        stamp = changes.newest
        assert stamp is not None
        changes.pages = 0
        assert await read_ids(changes, stamp) == list(range(1, 12_001))
        assert changes.newest == stamp


async def test_the_search_limit_is_kept(make_sandbox: MakeSandbox) -> None:
    async with make_sandbox(hubspot_contacts=2_400, hubspot_rate=None,
                            hubspot_search_rate=5) as sb:
        async with reader(sb, 4) as changes:
            assert len(await read_ids(changes, 0)) == 2_400
            assert changes.client.stats.rate_limited == 0  # paced under it: no 429 at all
        async with reader(sb, 50) as changes:  # told ten times too fast
            assert len(await read_ids(changes, 0)) == 2_400
            refused = changes.client.stats.rate_limited
            assert 0 < refused <= 4  # each 429 paused every request: no storm


class Stub(HubSpotClient):
    """Pages as a search might give them: short ones with a `next` link, ids 9 then 10."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages
        self.asked: list[dict[str, Any]] = []

    async def search_contacts(self, body: dict[str, Any]) -> dict[str, Any]:
        self.asked.append(body)
        ids = self.pages.pop(0) if self.pages else []
        return {"total": 99, "results": [{"id": i, "properties": {
            "lastmodifieddate": f"2026-01-0{1 + int(i) % 5}T00:00:00.000Z"}}
            for i in ids], **({"paging": {"next": {"after": "2"}}} if ids else {})}


async def test_a_short_page_is_not_the_end_and_ids_are_numbers() -> None:
    stub = Stub([["8", "9"], ["10"], ["11", "12"]])
    changes = ChangeReader(stub, ["email"])
    assert await read_ids(changes, 5) == [8, 9, 10, 11, 12]
    keys = [next((f["value"] for f in body["filterGroups"][0]["filters"]
                  if f["propertyName"] == "hs_object_id"), None) for body in stub.asked]
    assert keys == [None, "9", "10", "12"]  # "10" after "9": compared as numbers
    assert all(body.get("after") is None for body in stub.asked)  # never the 10,000-wall cursor
    assert changes.newest == 1_767_571_200_000  # 2026-01-05, the latest read (id 9's)


async def test_changes_come_with_their_companies_as_the_import_reads_them(
        make_sandbox: MakeSandbox, tmp_path: Any) -> None:
    """Every contact read as a change maps to the record `import hubspot:contacts` makes of
    it: the same company (primary, else first; none for a contact without), the same values."""
    async with make_sandbox(hubspot_contacts=450, hubspot_rate=None,
                            hubspot_search_rate=None) as sb:
        settings = HubSpotSettings(base_url=sb.base_url, token=sb.hubspot_token,
                                   rate_per_10s=None, search_rate_per_s=None)
        async with open_hubspot(settings) as client:
            imported = CompanyCache(tmp_path / "import")
            changed = CompanyCache(tmp_path / "sync")
            try:
                source = ContactRecords(client, imported)
                expected = {}
                while batch := await source.read_batch(500):
                    expected.update({r.key: r.values for r in batch})
                changes = ChangeReader(client, source.properties, changed,
                                       source.company_properties)
                read = {str(c["id"]): record_of(c, source.columns, 0).values
                        async for page in changes.since(0) for c in page}
            finally:
                imported.close()
                changed.close()
    assert read == expected and len(read) == 450
    names = [(v or {}).get("company.name") for v in read.values()]
    assert any(names) and None in names  # with a company, and without one
