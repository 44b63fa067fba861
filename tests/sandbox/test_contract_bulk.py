"""Contract: the bulk list endpoints (API key only, 5,000 a page, projection, envelopes)."""

from __future__ import annotations

from typing import Any

import pytest

from bulkio.sandbox import SandboxConfig
from tests.conftest import RawApi


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=3, leads=7_000,
                         source_leads=30)


def params(api: RawApi, **extra: Any) -> dict[str, Any]:
    return {"companyId": api.sb.company_id, **extra}


async def page_all(api: RawApi, path: str = "/api/enrich-leads/list", **extra: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token = None
    while True:
        query = params(api, **extra)
        if token:
            query["nextToken"] = token
        answer = await api.call("GET", path, params=query, headers=api.api_key())
        assert answer.status == 200
        body = answer.body.get("data", answer.body)
        items += body["items"]
        token = body["nextToken"]
        if not token:
            return items


async def test_bearer_alone_is_refused(api: RawApi) -> None:
    """The bulk endpoints bypass the JWT path: a Bearer token alone gets 401."""
    answer = await api.call("GET", "/api/enrich-leads/list", params=params(api))
    assert answer.status == 401 and answer.body["errorType"] == "no_valid_credentials"


async def test_company_id_is_required_and_must_be_yours(api: RawApi) -> None:
    """companyId missing: 400; another company's: 403."""
    missing = await api.call("GET", "/api/enrich-leads/list", headers=api.api_key())
    assert missing.status == 400
    other = await api.call("GET", "/api/enrich-leads/list", params={"companyId": "company-x"},
                           headers=api.api_key())
    assert other.status == 403


async def test_default_page_1000_max_5000(api: RawApi) -> None:
    """limit defaults to 1000 and is capped at 5000."""
    default = await api.call("GET", "/api/enrich-leads/list", params=params(api), headers=api.api_key())
    assert len(default.body["items"]) == 1000
    big = await api.call("GET", "/api/enrich-leads/list", params=params(api, limit=6000),
                         headers=api.api_key())
    assert len(big.body["items"]) == 5000 and big.body["nextToken"]


async def test_paging_returns_every_record_exactly_once(api: RawApi) -> None:
    """nextToken paging over ALL clients yields each of the 7,000 leads once."""
    items = await page_all(api, limit=3000)
    ids = [i["id"] for i in items]
    assert len(ids) == 7000 and len(set(ids)) == 7000


@pytest.mark.parametrize("client", [None, "ALL", "DEFAULT"])
async def test_all_default_or_absent_mean_every_client(api: RawApi, client: str | None) -> None:
    """clientId ALL, DEFAULT or absent: every client."""
    extra = {"clientId": client} if client else {}
    assert len(await page_all(api, limit=5000, **extra)) == 7000


async def test_client_filter_and_projection(api: RawApi) -> None:
    """clientId filters; fields projects onto those keys plus id; absent fields stay absent."""
    slug = (await api.slugs())[0]
    items = await page_all(api, clientId=slug, fields="email,companyName,noSuchField")
    assert len(items) == 2334  # 7,000 over 3 clients: 2,334 + 2,333 + 2,333
    assert all(set(i) == {"id", "email", "companyName"} for i in items)


async def test_invalid_field_names_and_tokens_are_400(api: RawApi) -> None:
    """A field name that is not an identifier, or a forged token, is refused."""
    bad_field = await api.call("GET", "/api/enrich-leads/list", params=params(api, fields="a;b"),
                               headers=api.api_key())
    assert bad_field.status == 400
    bad_token = await api.call("GET", "/api/enrich-leads/list",
                               params=params(api, nextToken="forged"), headers=api.api_key())
    assert bad_token.status == 400


async def test_wrapped_envelope_knob(api: RawApi) -> None:
    """--envelope wrapped: {"success", "data": {"items", "nextToken"}}."""
    api.sb.config.envelope = "wrapped"
    answer = await api.call("GET", "/api/enrich-leads/list", params=params(api, limit=10),
                            headers=api.api_key())
    assert set(answer.body) == {"success", "data"}
    assert len(answer.body["data"]["items"]) == 10 and answer.body["data"]["nextToken"]


async def test_source_leads_are_a_separate_list(api: RawApi) -> None:
    """/api/source-leads/list serves the source leads, not the enrich leads."""
    items = await page_all(api, "/api/source-leads/list")
    assert len(items) == 30
    enrich_ids = {i["id"] for i in await page_all(api, limit=5000)}
    assert not enrich_ids & {i["id"] for i in items}
