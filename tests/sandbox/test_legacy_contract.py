"""The legacy enrichment API's twin against its documentation: every example request and
error it shows answered as it shows, and the shapes docs/api-contract.md decides where it is
silent (pages, usage, the allowance, exclusions, webhooks)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.conftest import MakeSandbox

UPLOAD = "/api/v1/enrichment/upload/"
STATUS = "/api/v1/enrichment/status/"
EXCLUSIONS = "/api/v1/exclusion/upload/"
DOCUMENTED = {  # the documentation's Python example, as it is
    "slug": "your-campaign-name-here",
    "type": "datahub",
    "fields": ["org_company_name", "org_website", "org_linkedin_url", "contact_first_name",
               "contact_last_name", "contact_email", "contact_job_title", "contact_linkedin_url"],
    "records": [
        {"contact_first_name": "Jane", "contact_last_name": "Doe", "contact_email": "",
         "org_company_name": "Zinc Holdings", "org_website": "simplefake.org"},
        {"contact_first_name": "", "contact_last_name": "Johnson", "contact_email": "",
         "org_company_name": "Zinc Holdings", "org_website": "simplefake.org"},
        {"contact_first_name": "", "contact_last_name": "Diamond",
         "contact_email": "ediamond@earthstar.org", "org_company_name": "EarthStar",
         "org_website": "earthstar.org"},
    ]}


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, legacy_campaigns=True, legacy_rate=None,
                         legacy_enrich_seconds=(0.0, 0.0))


@pytest.fixture
async def legacy(sandbox: Sandbox) -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Token {sandbox.legacy_api_key}"}
    async with aiohttp.ClientSession(base_url=sandbox.base_url, headers=headers) as session:
        yield session


async def call(http: aiohttp.ClientSession, method: str, path: str, body: Any = None
               ) -> tuple[int, Any]:
    async with http.request(method, path, json=body) as answer:
        return answer.status, await answer.json()


async def test_the_documented_upload_and_its_errors(legacy: aiohttp.ClientSession) -> None:
    status, made = await call(legacy, "POST", UPLOAD, DOCUMENTED)
    assert status == 201 and made["uploaded"] == 3 and made["slug"] == DOCUMENTED["slug"]
    assert made["ids"] == sorted(made["ids"]) and len(set(made["ids"])) == 3
    curl = {"slug": "api-test-standard-fields", "type": "datahub", "records": [  # no fields
        {"contact_first_name": "Jules", "contact_last_name": "Verne", "contact_email": "",
         "org_company_name": "Zinc Holdings", "org_website": "simplefake.org"}]}
    assert (await call(legacy, "POST", UPLOAD, curl))[0] == 201
    cases: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({k: v for k, v in curl.items() if k != "type"}, {"type": ["This field is required."]}),
        ({**curl, "type": "foo"}, {"type": ['"foo" is not a valid choice.']}),
        ({**curl, "slug": "api-test-single", "type": "single_field",
          "fields": ["org_industry", "org_city"]},
         {"fields": ["single_field type requires 1 field. Passed 2"]}),
        ({**curl, "type": "enrichment"},  # an existing job keeps its type
         {"type": ["Records added to an existing job must use its type (datahub), not "
                   "enrichment."]}),
        ({k: v for k, v in curl.items() if k != "slug"}, {"slug": ["This field is required."]}),
        ({**curl, "slug": "has spaces"}, {"slug": ['Enter a valid "slug" consisting of letters, '
                                                   'numbers, underscores or hyphens.']}),
        ({**curl, "records": [{"contact_first_name": "Ann"}]},
         {"records": ["Record 0: a contact needs contact_last_name or contact_email."]}),
        ({**curl, "records": [{"org_phone": "555"}]},
         {"records": ["Record 0: a company needs org_company_name or org_website."]}),
        ({**curl, "records": [*curl["records"], {"contact_email": "a@b.c", "favourite": "x"}]},
         {"records": ['Record 1: unknown field "favourite".']}),
        ({**curl, "records": [{"contact_email": f"p{i}@x.org"} for i in range(201)]},
         {"records": ["At most 200 records a request."]}),
    ]
    for body, said in cases:
        assert await call(legacy, "POST", UPLOAD, body) == (400, said)


async def test_the_key(sandbox: Sandbox) -> None:
    async with aiohttp.ClientSession(base_url=sandbox.base_url) as http:
        for headers, said in (({}, "Authentication credentials were not provided."),
                              ({"Authorization": "Token nope"}, "Invalid token."),
                              ({"Authorization": f"Bearer {sandbox.legacy_api_key}"},
                               "Invalid token.")):
            async with http.get(STATUS, headers=headers) as answer:
                assert (answer.status, await answer.json()) == (401, {"detail": said})
        # the documentation's JavaScript writes the scheme in capitals
        async with http.get(STATUS, headers={"Authorization":
                                             f"TOKEN {sandbox.legacy_api_key}"}) as answer:
            assert answer.status == 200


async def test_retrieve_pages_of_100_with_the_documented_shape(
        legacy: aiohttp.ClientSession) -> None:
    records = [{"contact_last_name": f"L{i}", "contact_email": f"p{i}@acme.org",
                "org_company_name": "Acme", "contact_record_id": str(1000 + i)}
               for i in range(150)]
    ids = []
    for start in (0, 100):
        _, made = await call(legacy, "POST", UPLOAD, {"slug": "paged", "type": "enrichment",
                                                      "records": records[start:start + 100]})
        ids += made["ids"]
    status, first = await call(legacy, "GET", "/api/v1/enrichment/retrieve/paged/")
    assert status == 200 and first["count"] == 150 and len(first["results"]) == 100
    assert first["previous"] is None and first["next"].endswith("page=2")
    assert (first["count_uploaded"], first["count_enriched"]) == (150, 150)  # due at once
    record = first["results"][0]
    assert set(record) == {"id", "created", "finalized", "status", "data"}
    assert record["status"] in ("finalized", "finalized_incomplete") and record["finalized"]
    assert record["data"]["contact_record_id"] == "1000"  # as uploaded
    assert record["data"]["org_industry"] and record["data"]["contact_seniority"]  # enriched
    # `next` is a full URL, as the API gives it (a session with a base URL takes paths only)
    async with aiohttp.ClientSession(headers=legacy.headers) as plain, \
            plain.get(first["next"]) as answer:
        second = await answer.json()
    assert len(second["results"]) == 50 and second["next"] is None and second["previous"]
    assert [r["id"] for r in first["results"] + second["results"]] == ids  # creation order
    status, some = await call(legacy, "GET", f"/api/v1/enrichment/retrieve/paged?id={ids[3]}"
                                             f"&id={ids[140]}")
    assert status == 200 and [r["id"] for r in some["results"]] == [ids[3], ids[140]]
    assert await call(legacy, "GET", "/api/v1/enrichment/retrieve/nope/") == (
        404, {"detail": "Not found."})


async def test_usage_and_the_monthly_allowance(make_sandbox: MakeSandbox) -> None:
    async with make_sandbox(legacy_campaigns=True, legacy_allowance=5,
                            legacy_enrich_seconds=(60.0, 60.0)) as sb:
        headers = {"Authorization": f"Token {sb.legacy_api_key}"}
        async with aiohttp.ClientSession(base_url=sb.base_url, headers=headers) as http:
            body = {"slug": "small", "type": "datahub",
                    "records": [{"contact_email": f"u{i}@x.org"} for i in range(3)]}
            assert (await call(http, "POST", UPLOAD, body))[0] == 201
            assert await call(http, "POST", UPLOAD, body) == (
                400, {"records": ["Monthly allowance exceeded: 2 left."]})
            status, usage = await call(http, "GET", STATUS)
    assert status == 200 and set(usage) == {"total", "current_period", "updated_at"}
    assert usage["total"] == {"uploaded": 3, "enriched": 0}  # finalized in a minute
    period = usage["current_period"]
    assert (period["uploaded"], period["enriched"], period["remaining"]) == (3, 0, 2)
    assert period["start_date"].endswith("-01T00:00:00")
    assert period["start_date"] < period["end_date"]


async def test_excluded_contacts_and_companies_are_not_enriched(
        legacy: aiohttp.ClientSession) -> None:
    documented = {"records": [
        {"entity": "contact", "contact_first_name": "Jane", "contact_last_name": "Doe",
         "contact_email": "jane@simplefake.org", "org_company_name": "Zinc Holdings",
         "org_website": "simplefake.org"},
        {"entity": "contact", "contact_first_name": "", "contact_last_name": "Johnson",
         "contact_email": "johnson@simplefake.org", "org_company_name": "Zinc Holdings",
         "org_website": "simplefake.org"},
        {"entity": "org", "org_company_name": "EarthStar", "org_website": "earthstar.org"}]}
    assert await call(legacy, "POST", EXCLUSIONS, documented) == (201, {"uploaded": 3})
    assert await call(legacy, "POST", EXCLUSIONS, {"records": [{"entity": "org",
                                                                 "org_phone": "1"}]}) == (
        400, {"records": ["Record 0: an excluded org needs org_linkedin_url or org_website."]})
    _, made = await call(legacy, "POST", UPLOAD, {"slug": "ex", "type": "datahub", "records": [
        {"contact_email": "jane@simplefake.org", "org_company_name": "Zinc Holdings"},
        {"contact_email": "mary@simplefake.org", "org_website": "simplefake.org"},
        {"org_company_name": "EarthStar", "org_website": "earthstar.org"}]})
    _, page = await call(legacy, "GET", "/api/v1/enrichment/retrieve/ex/")
    by_id = {r["id"]: r for r in page["results"]}
    jane, mary, earthstar = (by_id[i] for i in made["ids"])
    assert jane["status"] == "finalized_incomplete" and not jane["data"].get("org_industry")
    assert earthstar["status"] == "finalized_incomplete"
    assert mary["data"]["org_industry"]  # a contact's company fields excluded no company


async def test_50_requests_a_minute_then_429(make_sandbox: MakeSandbox) -> None:
    async with make_sandbox(legacy_campaigns=True) as sb:
        headers = {"Authorization": f"Token {sb.legacy_api_key}"}
        async with aiohttp.ClientSession(base_url=sb.base_url, headers=headers) as http:
            for _ in range(50):
                assert (await call(http, "GET", STATUS))[0] == 200
            async with http.get(STATUS) as answer:
                said = await answer.json()
                assert answer.status == 429 and int(answer.headers["Retry-After"]) >= 1
    assert said["detail"].startswith("Request was throttled. Expected available in ")


async def test_the_webhook_says_which_records_are_finalized(
        legacy: aiohttp.ClientSession) -> None:
    got: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.json())
        if sum(len(g["records"]) for g in got) >= 2:
            arrived.set()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        _, made = await call(legacy, "POST", UPLOAD, {
            "slug": "hooked", "type": "datahub",
            "webhook_url": f"http://127.0.0.1:{runner.addresses[0][1]}/hook",
            "records": [{"contact_email": "a@x.org"}, {"contact_email": "b@x.org"}]})
        await asyncio.wait_for(arrived.wait(), 30)
    finally:
        await runner.cleanup()
    assert sorted(i for g in got for i in g["records"]) == made["ids"]
    last = got[-1]
    assert last["slug"] == "hooked" and (last["uploaded"], last["enriched"]) == (2, 2)
    assert last["complete"] is True
