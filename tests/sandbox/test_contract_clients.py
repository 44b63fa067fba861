"""Contract: /api/clients (list, get, create, update, delete, purge) and the slug/UUID pair."""

from __future__ import annotations

import re

import pytest

from bulkio.sandbox import SandboxConfig
from tests.conftest import RawApi, lead

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, purge_limit=5)


async def create(api: RawApi, name: str) -> dict[str, str]:
    answer = await api.call("POST", "/api/clients", json={"clientName": name,
                                                          "companyURL": "https://x.example"})
    assert answer.status == 201
    client: dict[str, str] = answer.body["client"]
    return client


async def test_create_returns_a_uuid_id_and_a_unique_slug(api: RawApi) -> None:
    """A client has a UUID `id` and a slug `client_id`; the same name twice gets two slugs."""
    first = await create(api, "Acme Corp")
    second = await create(api, "Acme Corp")
    assert UUID.match(first["id"]) and first["client_id"] == "acme-corp"
    assert second["client_id"] != first["client_id"]
    assert first["company_id"] == api.sb.company_id and first["owner"] == api.sb.user_id


async def test_create_without_a_name_is_400(api: RawApi) -> None:
    """clientName is required."""
    answer = await api.call("POST", "/api/clients", json={"description": "x"})
    assert answer.status == 400 and answer.body["errorType"] == "missing_required_field"


async def test_list_and_get_by_slug_or_uuid(api: RawApi) -> None:
    """GET lists the company's clients; ?clientId= takes either identifier; unknown is 404."""
    client = await create(api, "Globex")
    listed = (await api.call("GET", "/api/clients")).body["clients"]
    assert client["id"] in [c["id"] for c in listed]
    for ident in (client["id"], client["client_id"]):
        one = await api.call("GET", "/api/clients", params={"clientId": ident})
        assert one.status == 200 and one.body["clients"] == [client]
    assert (await api.call("GET", "/api/clients", params={"clientId": "nope"})).status == 404


async def test_update_takes_the_uuid_and_keeps_the_slug(api: RawApi) -> None:
    """PUT changes fields by `id`; the slug never changes; the slug is not an id here."""
    client = await create(api, "Initech")
    answer = await api.call("PUT", "/api/clients", json={"id": client["id"], "clientName": "Initrode"})
    assert answer.status == 200
    assert answer.body["client"]["clientName"] == "Initrode"
    assert answer.body["client"]["client_id"] == client["client_id"]
    by_slug = await api.call("PUT", "/api/clients", json={"id": client["client_id"], "clientName": "x"})
    assert by_slug.status == 404


async def test_delete_takes_the_uuid_only(api: RawApi) -> None:
    """DELETE ?id=<uuid> removes the record; the slug is not accepted."""
    client = await create(api, "Umbrella")
    slug = await api.call("DELETE", "/api/clients", params={"id": client["client_id"]})
    assert slug.status == 404
    assert (await api.call("DELETE", "/api/clients", params={"id": client["id"]})).status == 200
    assert client["client_id"] not in await api.slugs()


async def test_purge_deletes_the_leads_of_a_small_client(api: RawApi) -> None:
    """purge=true at or under the limit removes the client and its leads."""
    client = await create(api, "Small")
    for i in range(5):
        await api.call("POST", "/api/leads", json=lead(client["client_id"], email=f"s{i}@x.com"))
    answer = await api.call("DELETE", "/api/clients", params={"id": client["id"], "purge": "true"})
    assert answer.status == 200
    assert api.sb.state.store.count_leads(api.sb.company_id, client["client_id"]) == 0


async def test_purge_times_out_above_the_limit_leaving_the_client(api: RawApi) -> None:
    """Above --purge-limit: 504; some leads went, the rest and the client remain."""
    client = await create(api, "Big")
    for i in range(8):
        await api.call("POST", "/api/leads", json=lead(client["client_id"], email=f"b{i}@x.com"))
    answer = await api.call("DELETE", "/api/clients", params={"id": client["id"], "purge": "true"})
    assert answer.status == 504
    assert client["client_id"] in await api.slugs()
    assert api.sb.state.store.count_leads(api.sb.company_id, client["client_id"]) == 3
