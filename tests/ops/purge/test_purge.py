"""bulkio purge against the sandbox, in process: what is left on the server, and the report."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

from bulkio.api import dry_run_purge, purge_client
from bulkio.errors import ConfigError
from bulkio.leadgenius.client import LeadGeniusClient
from bulkio.models import PURGE_REPORT_KEYS, Client, Page, PurgeReport
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.exports.test_export import settings_for
from tests.ops.imports.test_import import FAST

LEADS = 5000  # per client


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=2, leads=2 * LEADS)


def leads_of(sb: Sandbox, slug: str) -> int:
    return int(sb.state.store.db.execute(
        "SELECT count(*) FROM leads WHERE client_id = ?", (slug,)).fetchone()[0])


def other_slug(sb: Sandbox) -> str:
    return next(str(c["client_id"]) for c in sb.state.store.list_clients(sb.company_id)
                if c["client_id"] != "acme-corp")


async def purge(sb: Sandbox, tmp_path: Path, **options: Any) -> PurgeReport:
    options.setdefault("job_dir", tmp_path / "job")
    settings = options.pop("settings", None) or settings_for(sb)
    return await purge_client(options.pop("client", "acme-corp"), settings=settings, policy=FAST,
                              **options)


async def test_a_5000_lead_client_is_emptied_and_its_neighbour_untouched(
        sandbox: Sandbox, tmp_path: Path) -> None:
    other = other_slug(sandbox)
    report = await purge(sandbox, tmp_path)
    assert leads_of(sandbox, "acme-corp") == 0
    assert leads_of(sandbox, other) == LEADS
    assert (report.found, report.deleted, report.remaining) == (LEADS, LEADS, 0)
    assert report.rounds == 2 and report.ok and not report.client_deleted
    deletes = sandbox.state.counts["DELETE /api/leads"]
    assert deletes == LEADS // 50  # ceil(N / 50), not N
    assert report.requests <= deletes + 10  # plus the listings and the login
    saved = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert tuple(saved) == PURGE_REPORT_KEYS and saved["deleted"] == LEADS


async def test_ids_the_server_silently_keeps_are_deleted_in_later_rounds(
        sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.state.chaos.rng.seed(11)
    sandbox.config.batch_delete_drop = 0.3
    report = await purge(sandbox, tmp_path)
    assert leads_of(sandbox, "acme-corp") == 0 and leads_of(sandbox, other_slug(sandbox)) == LEADS
    assert report.rounds >= 3 and report.deleted == LEADS and report.remaining == 0


async def test_a_round_that_deletes_nothing_stops_and_reports_what_is_left(
        sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.config.batch_delete_drop = 1.0
    report = await purge(sandbox, tmp_path, delete_client=True)
    assert report.remaining == LEADS and report.deleted == 0 and not report.ok
    assert report.rounds == 2 and not report.client_deleted
    assert sandbox.state.store.find_client(sandbox.company_id, "acme-corp") is not None


async def test_the_client_record_is_deleted_only_once_empty(sandbox: Sandbox,
                                                            tmp_path: Path) -> None:
    report = await purge(sandbox, tmp_path, delete_client=True)
    assert report.client_deleted and report.remaining == 0
    assert sandbox.state.store.find_client(sandbox.company_id, "acme-corp") is None
    assert sandbox.state.counts.get("DELETE /api/clients") == 1


async def test_dry_run_counts_and_deletes_nothing(sandbox: Sandbox) -> None:
    plan = await dry_run_purge("acme-corp", settings=settings_for(sandbox, rate_per_minute=100))
    assert plan.leads == LEADS and plan.requests == LEADS // 50 + 2
    assert plan.minutes == pytest.approx(plan.requests / 100)
    assert leads_of(sandbox, "acme-corp") == LEADS
    assert "DELETE /api/leads" not in sandbox.state.counts


async def test_a_refusal_deletes_nothing_and_leaves_no_job(sandbox: Sandbox,
                                                           tmp_path: Path) -> None:
    asked: list[tuple[str, int]] = []

    async def refuse(client: Client, leads: int) -> bool:
        asked.append((client.slug, leads))
        return False

    with pytest.raises(ConfigError, match="not confirmed"):
        await purge(sandbox, tmp_path, confirm=refuse)
    assert asked == [("acme-corp", LEADS)]
    assert leads_of(sandbox, "acme-corp") == LEADS and not (tmp_path / "job").exists()


async def test_a_record_of_another_client_is_never_deleted(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the server ever listed another client's lead under this one, it is left alone."""
    other = other_slug(sandbox)
    stranger = sandbox.state.store.db.execute(
        "SELECT data FROM leads WHERE client_id = ? LIMIT 1", (other,)).fetchone()[0]
    pages = LeadGeniusClient.lead_pages

    async def with_a_stranger(self: LeadGeniusClient, *args: Any, **kwargs: Any
                              ) -> AsyncIterator[Page]:
        async for page in pages(self, *args, **kwargs):
            yield Page([*page.items, orjson.loads(stranger)], page.next_token)

    monkeypatch.setattr(LeadGeniusClient, "lead_pages", with_a_stranger)
    report = await purge(sandbox, tmp_path)
    assert leads_of(sandbox, other) == LEADS and report.remaining == 0


async def test_without_an_api_key_the_jwt_list_is_enumerated(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    report = await purge(sandbox, tmp_path, settings=settings_for(sandbox, api_key=False))
    assert report.remaining == 0 and leads_of(sandbox, "acme-corp") == 0
    assert "GET /api/enrich-leads/list" not in sandbox.state.counts


async def test_an_unknown_client_is_a_clear_error(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no client"):
        await purge(sandbox, tmp_path, client="nope")


async def test_a_listing_resumed_with_a_refused_cursor_starts_over(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped mid-listing (the JWT list: 1,000 a page), resumed when the server no longer
    accepts the saved cursor: the listing starts over, and the purge completes."""
    jwt = settings_for(sandbox, api_key=False)
    list_leads = LeadGeniusClient.list_leads
    calls = 0

    async def stop_at_the_third_page(self: LeadGeniusClient, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            scope.cancel()  # as Ctrl-C would, with two pages spooled
        return await list_leads(self, *args, **kwargs)

    monkeypatch.setattr(LeadGeniusClient, "list_leads", stop_at_the_third_page)
    with anyio.CancelScope() as scope:
        await purge(sandbox, tmp_path, settings=jwt)
    monkeypatch.setattr(LeadGeniusClient, "list_leads", list_leads)
    assert scope.cancelled_caught and leads_of(sandbox, "acme-corp") == LEADS
    with sqlite3.connect(tmp_path / "job" / "spool.db") as db:
        assert db.execute("SELECT count(*) FROM ids").fetchone()[0] == 2000
        db.execute("UPDATE meta SET value = '\"expired-cursor\"' WHERE key = 'token'")
    report = await purge(sandbox, tmp_path, settings=jwt, resume=True)
    assert report.remaining == 0 and report.found == LEADS
    assert leads_of(sandbox, "acme-corp") == 0 and leads_of(sandbox, other_slug(sandbox)) == LEADS


async def test_an_empty_client_record_is_deleted_only_when_confirmed(
        sandbox: Sandbox, tmp_path: Path) -> None:
    empty = sandbox.state.store.create_client(sandbox.company_id, sandbox.user_id,
                                              {"clientName": "Empty Co"})
    asked: list[int] = []

    async def refuse(client: Client, leads: int) -> bool:
        asked.append(leads)
        return False

    with pytest.raises(ConfigError, match="not confirmed"):
        await purge(sandbox, tmp_path, client=empty["client_id"], delete_client=True,
                    confirm=refuse)
    assert asked == [0]
    assert sandbox.state.store.find_client(sandbox.company_id, empty["client_id"]) is not None
