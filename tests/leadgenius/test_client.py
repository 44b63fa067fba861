"""The endpoint methods over real HTTP against the sandbox."""

from __future__ import annotations

import logging

import pytest

from bulkio.errors import UnknownClient
from bulkio.http.retry import NO_WAIT
from bulkio.leadgenius.client import LeadGeniusClient, open_client
from bulkio.leadgenius.settings import Credentials, Settings
from bulkio.models import LeadKind
from bulkio.sandbox import Sandbox, SandboxConfig


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=2, leads=2_500,
                         source_leads=7)


def settings_for(sb: Sandbox, *, api_key: bool = True, **extra: object) -> Settings:
    creds = Credentials(token=sb.token, api_key=sb.api_key if api_key else None,
                        user_id=sb.user_id)
    return Settings(base_url=sb.base_url, credentials=creds, rate_per_minute=None, **extra)  # type: ignore[arg-type]


async def test_resolve_client_by_slug_uuid_or_not_at_all(sandbox: Sandbox,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A slug resolves; a UUID resolves to its slug with a warning; unknown lists the slugs."""
    async with open_client(settings_for(sandbox)) as client:
        clients = await client.list_clients()
        assert (await client.resolve_client(clients[0].slug)) == clients[0]
        with caplog.at_level(logging.WARNING, logger="bulkio"):
            by_uuid = await client.resolve_client(clients[1].id)
        assert by_uuid.slug == clients[1].slug
        assert "internal id" in caplog.text and clients[1].slug in caplog.text
        with pytest.raises(UnknownClient) as info:
            await client.resolve_client("no-such-client")
        assert clients[0].slug in str(info.value) and "bulkio clients" in str(info.value)


async def test_company_id_is_asked_once_when_not_configured(sandbox: Sandbox) -> None:
    """Without LEADGENIUS_COMPANY_ID the client asks GET /api/company, once."""
    async with open_client(settings_for(sandbox)) as client:
        assert await client.company_id() == sandbox.company_id
        assert await client.company_id() == sandbox.company_id
    assert sandbox.state.counts["GET /api/company"] == 1


@pytest.mark.parametrize("envelope", ["flat", "wrapped"])
async def test_bulk_pages_read_both_envelopes(sandbox: Sandbox, envelope: str) -> None:
    """Flat and wrapped bulk answers give the same pages."""
    sandbox.config.envelope = envelope
    async with open_client(settings_for(sandbox)) as client:
        page = await client.bulk_page(LeadKind.ENRICH, limit=1000, fields=["email"])
        assert len(page.items) == 1000 and page.next_token
        assert set(page.items[0]) == {"id", "email"}
        source = await client.bulk_page(LeadKind.SOURCE)
        assert len(source.items) == 7 and source.next_token is None


@pytest.mark.parametrize("api_key", [True, False])
async def test_count_leads_pages_the_fastest_endpoint(sandbox: Sandbox, api_key: bool) -> None:
    """count_leads is right with the bulk list (API key) and with the JWT list (no API key)."""
    async with open_client(settings_for(sandbox, api_key=api_key)) as client:
        counts = [await client.count_leads(c.slug) for c in await client.list_clients()]
    assert counts == [1250, 1250]
    used = "GET /api/enrich-leads/list" if api_key else "GET /api/leads"
    assert sandbox.state.counts[used] > 0


async def test_lastkey_cursor_is_followed(sandbox: Sandbox) -> None:
    """Deployments that name the cursor lastKey page the same."""
    sandbox.config.cursor_name = "lastKey"
    async with open_client(settings_for(sandbox, api_key=False)) as client:
        slug = (await client.list_clients())[0].slug
        assert await client.count_leads(slug) == 1250


async def test_lead_lifecycle(sandbox: Sandbox) -> None:
    """Create, update (single and batch), delete (single and batch) through the client."""
    async with open_client(settings_for(sandbox)) as client:
        new = await client.create_client("Lifecycle Test")
        assert new.slug == "lifecycle-test"
        leads = [await client.create_lead({"client_id": new.slug, "firstName": "A",
                                           "lastName": f"N{i}", "email": f"a{i}@x.com"})
                 for i in range(4)]
        assert (await client.update_lead(leads[0]["id"], {"title": "CTO"}))["title"] == "CTO"
        assert await client.update_leads([{"id": x["id"], "notes": "n"} for x in leads]) == 4
        await client.delete_lead(leads[0]["id"])
        assert await client.delete_leads([x["id"] for x in leads[1:]]) == 3
        assert await client.count_leads(new.slug) == 0
        with pytest.raises(ValueError):
            await client.delete_leads([f"x{i}" for i in range(51)])
        await client.delete_client(new.id)
        assert new.slug not in [c.slug for c in await client.list_clients()]


async def test_reads_survive_a_flaky_server(sandbox: Sandbox) -> None:
    """With 30% transient errors and 10% dropped connections, reads succeed through retries."""
    sandbox.state.chaos.rng.seed(7)  # fixed dice: a run of failures longer than the retry
    sandbox.config.error_rate = 0.3  # budget is possible (~0.7% a call), not a test subject
    sandbox.config.drop_rate = 0.1
    async with open_client(settings_for(sandbox), policy=NO_WAIT) as client:
        assert isinstance(client, LeadGeniusClient)
        for _ in range(20):
            assert len(await client.list_clients()) == 2
        assert client.stats.retries > 0
        assert client.stats.requests == 20 + client.stats.retries
