"""The HubSpot twin's wire contract, with raw aiohttp (not bulkio's client): CRM v3 contacts
and companies, the legacy v1 leads list, auth, scopes, HubSpot's quota and its mess."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.conftest import MakeSandbox

CONTACTS = 250
PROPS = "firstname,lastname,email,phone,mobilephone,company,jobtitle"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, hubspot_contacts=CONTACTS, hubspot_leads_v1=120,
                         hubspot_rate=None, chaos_seed=3)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(http: aiohttp.ClientSession, sb: Sandbox, method: str, path: str, *,
               token: str | None = "default", **kwargs: Any) -> tuple[int, Any, Any]:
    headers = {} if token is None else {
        "Authorization": f"Bearer {sb.hubspot_token if token == 'default' else token}"}
    async with http.request(method, sb.base_url + path, headers=headers, **kwargs) as resp:
        return resp.status, await resp.json(), resp.headers


async def all_contacts(http: aiohttp.ClientSession, sb: Sandbox) -> list[dict[str, Any]]:
    contacts: list[dict[str, Any]] = []
    after = None
    while True:
        params = {"limit": "100", "properties": PROPS, "associations": "companies"}
        if after:
            params["after"] = after
        status, body, _ = await call(http, sb, "GET", "/crm/v3/objects/contacts", params=params)
        assert status == 200
        contacts += body["results"]
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            assert "paging" not in body  # the last page says nothing more
            return contacts


async def test_contacts_page_by_an_opaque_cursor_each_once(sandbox: Sandbox,
                                                           http: aiohttp.ClientSession) -> None:
    contacts = await all_contacts(http, sandbox)
    assert [c["id"] for c in contacts] == [str(i) for i in range(1, CONTACTS + 1)]
    first = contacts[0]
    assert set(first) >= {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert set(first["properties"]) >= set(PROPS.split(","))  # every property asked, null if unset
    status, body, _ = await call(http, sandbox, "GET", "/crm/v3/objects/contacts",
                                 params={"after": "not-a-cursor"})
    assert status == 400 and body["category"] == "VALIDATION_ERROR"


async def test_the_seeded_portal_has_the_guide_s_mess(sandbox: Sandbox,
                                                      http: aiohttp.ClientSession) -> None:
    """Bug #5 and friends: what a real portal holds, so the importer is tested on it."""
    contacts = await all_contacts(http, sandbox)
    props = [c["properties"] for c in contacts]
    linked = [c for c in contacts if c.get("associations")]
    assert any(not c["properties"]["company"] for c in linked)  # company empty, one associated
    assert any(p["firstname"] is None for p in props) and any(p["lastname"] is None for p in props)
    assert any(not p.get("phone") and p.get("mobilephone") for p in props)
    assert any(p["email"] is None for p in props)
    types = [[a["type"] for a in c["associations"]["companies"]["results"]] for c in linked]
    assert ["contact_to_company_unlabeled", "contact_to_company"] in types  # primary not first
    assert ["contact_to_company_unlabeled", "contact_to_company_unlabeled"] in types  # none
    ids = sorted({a["id"] for c in linked for a in c["associations"]["companies"]["results"]})
    status, body, _ = await call(http, sandbox, "POST", "/crm/v3/objects/companies/batch/read",
                                 json={"properties": ["name", "domain"],
                                       "inputs": [{"id": i} for i in ids[:100]]})
    assert status == 200 and any(r["properties"]["domain"] is None for r in body["results"])


async def test_company_batch_read(sandbox: Sandbox, http: aiohttp.ClientSession) -> None:
    """At most 100 ids; unknown ids absent from the results, named in a 207's errors."""
    status, body, _ = await call(http, sandbox, "POST", "/crm/v3/objects/companies/batch/read",
                                 json={"properties": ["name", "domain", "industry"],
                                       "inputs": [{"id": "1"}, {"id": "2"}, {"id": "999999"}]})
    assert status == 207 and body["status"] == "COMPLETE"
    assert [r["id"] for r in body["results"]] == ["1", "2"]
    assert set(body["results"][0]["properties"]) >= {"name", "domain", "industry"}
    assert body["errors"][0]["context"]["ids"] == ["999999"]
    status, body, _ = await call(http, sandbox, "POST", "/crm/v3/objects/companies/batch/read",
                                 json={"inputs": [{"id": str(i)} for i in range(101)]})
    assert status == 400


async def test_v1_list_offsets_times_and_the_query_token(sandbox: Sandbox,
                                                         http: aiohttp.ClientSession) -> None:
    """A bare JSON array; sort by insertedAt either way; startTime inclusive; access_token
    in the query string stands for the Bearer header."""
    token = {"access_token": sandbox.hubspot_token}
    status, first, _ = await call(http, sandbox, "GET", "/leads/v1/list", token=None,
                                  params={**token, "max": "100", "sort": "insertedAt", "dir": "asc"})
    assert status == 200 and isinstance(first, list) and len(first) == 100
    times = [lead["insertedAt"] for lead in first]
    assert times == sorted(times) and all(lead["guid"] for lead in first)
    status, rest, _ = await call(http, sandbox, "GET", "/leads/v1/list", token=None,
                                 params={**token, "max": "100", "offset": "100", "sort": "insertedAt",
                                         "dir": "asc"})
    assert len(rest) == 20  # fewer than max: the end
    status, since, _ = await call(http, sandbox, "GET", "/leads/v1/list", token=None,
                                  params={**token, "max": "100", "sort": "insertedAt", "dir": "asc",
                                          "startTime": str(times[50])})
    assert since[0]["insertedAt"] == times[50]


async def test_the_v1_list_grows_while_it_is_paged(make_sandbox: MakeSandbox,
                                                   http: aiohttp.ClientSession) -> None:
    async with make_sandbox(hubspot_leads_v1=10, hubspot_insert_during_paging=2,
                            hubspot_rate=None) as sb:
        for expected in (11, 12, 12):
            _, leads, _ = await call(http, sb, "GET", "/leads/v1/list",
                                     params={"max": "100", "sort": "insertedAt", "dir": "asc"})
            assert len(leads) == expected


async def test_auth_and_scopes(make_sandbox: MakeSandbox, http: aiohttp.ClientSession) -> None:
    """No or a wrong token: 401 INVALID_AUTHENTICATION; a scope the app lacks: 403
    MISSING_SCOPES naming it."""
    async with make_sandbox(hubspot_contacts=3, hubspot_scopes=("crm.objects.contacts.read",)) as sb:
        for token in (None, "pat-na1-wrong"):
            status, body, _ = await call(http, sb, "GET", "/crm/v3/objects/contacts", token=token)
            assert status == 401 and body["category"] == "INVALID_AUTHENTICATION"
        status, body, _ = await call(http, sb, "POST", "/crm/v3/objects/companies/batch/read",
                                     json={"inputs": [{"id": "1"}]})
        assert status == 403 and body["category"] == "MISSING_SCOPES"
        assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.companies.read"]


async def test_the_ten_second_quota_and_the_daily_cap(make_sandbox: MakeSandbox,
                                                      http: aiohttp.ClientSession) -> None:
    async with make_sandbox(hubspot_contacts=3, hubspot_rate=3, hubspot_daily=5) as sb:
        seen = []
        for _ in range(4):
            status, body, headers = await call(http, sb, "GET", "/crm/v3/objects/contacts")
            seen.append((status, headers.get("X-HubSpot-RateLimit-Remaining")))
        assert seen == [(200, "2"), (200, "1"), (200, "0"), (429, "0")]
        assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
        assert 1 <= int(headers["Retry-After"]) <= 10  # when a slot of the window frees
        assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "2"
        sb.config.hubspot_rate = None
        for _ in range(2):
            assert (await call(http, sb, "GET", "/crm/v3/objects/contacts"))[0] == 200
        status, body, headers = await call(http, sb, "GET", "/crm/v3/objects/contacts")
        assert status == 429 and body["policyName"] == "DAILY"
        assert headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


async def test_chaos_applies_with_hubspot_shaped_errors(make_sandbox: MakeSandbox,
                                                        http: aiohttp.ClientSession) -> None:
    async with make_sandbox(hubspot_contacts=3, error_rate=1.0, chaos_seed=1) as sb:
        status, body, _ = await call(http, sb, "GET", "/crm/v3/objects/contacts")
        assert status in (500, 503) and body["status"] == "error" and "category" in body


async def test_the_daily_headers_come_with_every_answer(make_sandbox: MakeSandbox,
                                                        http: aiohttp.ClientSession) -> None:
    """All five rate-limit headers, as HubSpot sends them, even with no daily cap set."""
    async with make_sandbox(hubspot_contacts=3) as sb:
        status, _, headers = await call(http, sb, "GET", "/crm/v3/objects/contacts")
        assert status == 200
        for name in ("Max", "Remaining", "Interval-Milliseconds", "Daily", "Daily-Remaining"):
            assert f"X-HubSpot-RateLimit-{name}" in headers, name
        assert int(headers["X-HubSpot-RateLimit-Daily-Remaining"]) < \
            int(headers["X-HubSpot-RateLimit-Daily"])
