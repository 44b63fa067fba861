"""The HubSpot twin's CRM search and its living portal, with raw aiohttp: filters, one sort,
`total`, `after` paging and its 10,000-result wall, keyset paging by hs_object_id as numbers,
archived contacts (out of search, in `archived=true`), merges, the index's lag, a bulk edit,
and the search's own per-second limit."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.conftest import MakeSandbox
from tests.sandbox.test_contract_hubspot import call

CONTACTS = 450
SEARCH = "/crm/v3/objects/contacts/search"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, hubspot_contacts=CONTACTS, hubspot_rate=None,
                         hubspot_search_rate=None, hubspot_bulk_edit=120, chaos_seed=3)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def since(ms: int, after_id: int = 0, limit: int = 200) -> dict[str, Any]:
    filters = [{"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(ms)}]
    if after_id:
        filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": str(after_id)})
    return {"filterGroups": [{"filters": filters}], "limit": limit,
            "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
            "properties": ["email", "lastmodifieddate", "hs_merged_object_ids"]}


async def test_keyset_paging_reads_every_match_in_id_order(
        sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    seen: list[int] = []
    last = 0
    while True:
        status, page, _ = await call(http, sandbox, "POST", SEARCH, json=since(0, last, 100))
        assert status == 200
        if not page["results"]:
            break
        ids = [int(r["id"]) for r in page["results"]]
        assert ids == sorted(ids) and page["total"] == CONTACTS - len(seen)
        seen += ids
        last = ids[-1]
    assert seen == list(range(1, CONTACTS + 1))  # "9" before "10": ids compared as numbers


async def test_after_paging_and_its_wall(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    status, first, _ = await call(http, sandbox, "POST", SEARCH, json=since(0, limit=200))
    assert status == 200 and first["total"] == CONTACTS
    assert first["paging"]["next"]["after"] == "200"
    status, last, _ = await call(http, sandbox, "POST", SEARCH,
                                 json={**since(0), "after": "400"})
    assert len(last["results"]) == 50 and "paging" not in last
    status, wall, _ = await call(http, sandbox, "POST", SEARCH,
                                 json={**since(0), "after": "10000"})
    assert status == 400 and wall["category"] == "VALIDATION_ERROR"
    status, big, _ = await call(http, sandbox, "POST", SEARCH, json=since(0, limit=201))
    assert status == 400 and big["status"] == "error"


async def test_a_bulk_edit_shares_one_timestamp(sandbox: Sandbox,
                                                http: aiohttp.ClientSession) -> None:
    stamp = sandbox.state.store.db.execute(
        "SELECT modified_ms FROM hs_contacts WHERE id = 1").fetchone()[0]
    body = {"filterGroups": [{"filters": [{"propertyName": "lastmodifieddate",
                                           "operator": "EQ", "value": str(stamp)}]}]}
    status, page, _ = await call(http, sandbox, "POST", SEARCH, json=body)
    assert status == 200 and page["total"] == 120


async def test_archives_merges_and_the_index_lag(sandbox: Sandbox,
                                                 http: aiohttp.ClientSession) -> None:
    store = sandbox.hubspot.store
    now = int(time.time() * 1000)
    store.archive(5, now)
    store.merge(7, 8, now)
    store.modify(9, {"email": "moved@x.org"}, now, lag_ms=600_000)  # not indexed for 10 min
    status, page, _ = await call(http, sandbox, "POST", SEARCH, json=since(now))
    assert status == 200 and [r["id"] for r in page["results"]] == ["7"]
    assert page["results"][0]["properties"]["hs_merged_object_ids"] == "8"
    status, archived, _ = await call(http, sandbox, "GET", "/crm/v3/objects/contacts",
                                     params={"archived": "true", "limit": "100"})
    assert status == 200 and [r["id"] for r in archived["results"]] == ["5", "8"]
    assert all(r["archived"] and r["archivedAt"] for r in archived["results"])
    status, live, _ = await call(http, sandbox, "GET", "/crm/v3/objects/contacts",
                                 params={"limit": "10"})
    assert "5" not in [r["id"] for r in live["results"]]


async def test_the_search_has_its_own_limit_a_second(
        sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    sandbox.config.hubspot_search_rate = 2
    answers = await asyncio.gather(*(call(http, sandbox, "POST", SEARCH, json=since(0))
                                     for _ in range(3)))
    refused = [body for status, body, _ in answers if status == 429]
    assert len(refused) == 1 and refused[0]["policyName"] == "SECONDLY"
    assert refused[0]["errorType"] == "RATE_LIMIT"


async def test_a_living_portal_changes_while_it_is_read(
        make_sandbox: MakeSandbox, http: aiohttp.ClientSession) -> None:
    """--hubspot-churn: changes keep coming while the portal runs; a search since the start
    finds every live contact changed, and none archived or merged away."""
    async with make_sandbox(hubspot_contacts=100, hubspot_rate=None, hubspot_search_rate=None,
                            hubspot_churn=2_400, chaos_seed=9) as sb:
        started = int(time.time() * 1000) - 1
        enough = asyncio.Event()

        def counted() -> None:
            if len(sb.hubspot.changes) >= 60:
                enough.set()

        sb.hubspot.on_change = counted
        await asyncio.wait_for(enough.wait(), 30)
        sb.config.hubspot_churn = 0  # the portal still, to compare
        changes = list(sb.hubspot.changes)
        assert {"edit", "new", "email", "archive", "merge"} <= {k for k, _, _ in changes}
        found: set[int] = set()
        last = 0
        while True:
            status, page, _ = await call(http, sb, "POST", SEARCH, json=since(started, last))
            assert status == 200
            if not page["results"]:
                break
            found |= {int(r["id"]) for r in page["results"]}
            last = int(page["results"][-1]["id"])
        gone = {cid for kind, cid, _ in changes if kind in ("archive", "merge")}
        touched = {cid for kind, cid, _ in changes
                   if kind in ("edit", "new", "email", "survivor")}
        assert found == touched - gone


@pytest.mark.parametrize("skew_s", [-900.0, 600.0])
async def test_the_portal_keeps_its_own_clock(make_sandbox: MakeSandbox,
                                              http: aiohttp.ClientSession, skew_s: float) -> None:
    """--hubspot-clock-skew: the twin's Date headers, the lastmodifieddate of its changes and
    the search's idea of "now" all run that far from this machine's clock, on every answer
    (a refusal's too)."""
    async with make_sandbox(hubspot_contacts=20, hubspot_rate=None, hubspot_search_rate=None,
                            hubspot_clock_skew_s=skew_s) as sb:
        sb.hubspot.store.modify(3, {"jobtitle": "Now"}, sb.hubspot.now_ms())
        for token in ("default", "wrong"):
            status, _, headers = await call(http, sb, "POST", SEARCH, token=token,
                                            json=since(0))
            stamped = parsedate_to_datetime(headers["Date"]).timestamp()
            assert abs(stamped - (time.time() + skew_s)) < 2, status
        status, page, _ = await call(http, sb, "POST", SEARCH,
                                     json=since(int((time.time() + skew_s - 5) * 1000)))
        assert status == 200 and [r["id"] for r in page["results"]] == ["3"]
        stamp = page["results"][0]["properties"]["lastmodifieddate"]
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() \
            if not stamp.isdigit() else int(stamp) / 1000
        assert abs(moment - (time.time() + skew_s)) < 2
