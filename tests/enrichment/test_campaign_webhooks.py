"""`bulkio serve` receiving an enrichment campaign's webhooks (the service in this process, the
upload a real `campaign upload --webhook-url auto`): deliveries lost, doubled and out of order,
the sweep catching what none announced, every finalized record fetched once, into the
campaign's file or back into a Pro client; malformed deliveries and unknown tokens kept out."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import orjson
import pytest
from aiohttp import web

from bulkio.enrichment.settings import EnrichmentSettings
from bulkio.ops.jobs import state_dir
from bulkio.sandbox import Sandbox, SandboxConfig
from bulkio.service.server import Running, run_service
from bulkio.store.campaign_registry import open_registry
from tests.enrichment.test_campaign_download import full_env, leads_of
from tests.ops.imports.test_import import settings_for

pytestmark = pytest.mark.slow  # real processes; the twin finalizes over seconds


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, legacy_campaigns=True, legacy_rate=None,
                         legacy_enrich_seconds=(0.2, 1.5), legacy_webhook_loss=0.3,
                         legacy_webhook_dupes=0.3, clients=1, leads=120, chaos_seed=5)


@asynccontextmanager
async def service(sb: Sandbox, tmp_path: Path, poll_every: float) -> AsyncIterator[Running]:
    pro = settings_for(sb, auth_file=tmp_path / "auth.json")
    legacy = EnrichmentSettings(base_url=sb.base_url, key=sb.legacy_api_key,
                                rate_per_minute=None)
    async with run_service(pro, tmp_path / "data", host="127.0.0.1", port=0, max_upload_mb=8,
                           settle_s=1.0, keep_days=0, legacy=legacy,
                           poll_every=poll_every) as running:
        yield running


async def upload(sb: Sandbox, tmp_path: Path, source: str, slug: str, *extra: str) -> None:
    argv = [sys.executable, "-m", "bulkio", "campaign", "upload", source, "--campaign", slug,
            "--type", "datahub", "--webhook-url", "auto", "--settle", "1", "--legacy-rate",
            "unlimited", "--quiet", *extra]
    with anyio.fail_after(60):
        done = await anyio.run_process(argv, env=full_env(sb, tmp_path), check=False,
                                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr.decode()


def every_record_fetched(running: Running, sb: Sandbox, slug: str) -> anyio.Event:
    """Set once the registry has fetched every record the twin holds for the campaign."""
    done = anyio.Event()
    assert running.service.hooks is not None

    def check() -> None:
        ids = sb.state.store.db.execute("SELECT count(*) FROM lg_records WHERE slug = ?",
                                        (slug,)).fetchone()[0]
        with open_registry(state_dir()) as registry:
            fetched = registry.db.execute(
                "SELECT count(*) FROM announced WHERE fetched AND campaign LIKE ?",
                (f"%|{slug}",)).fetchone()[0]
        if ids and fetched == ids:
            done.set()

    running.service.hooks.on_fetched = check
    return done


@pytest.mark.parametrize(("loss", "dupes", "poll_every", "via"), [
    (0.0, 1.0, 3600.0, {"webhook"}), (1.0, 0.0, 1.0, {"sweep"}),
    (0.4, 0.4, 1.0, {"webhook", "sweep"})],
    ids=["every delivery twice", "every delivery lost", "some lost, some twice"])
async def test_deliveries_lost_or_doubled_every_record_fetched_once(
        sandbox: Sandbox, tmp_path: Path, loss: float, dupes: float, poll_every: float,
        via: set[str]) -> None:
    sandbox.config.legacy_webhook_loss, sandbox.config.legacy_webhook_dupes = loss, dupes
    source = tmp_path / "people.csv"
    source.write_text("Email,Last Name,Company\n" + "".join(
        f"p{i}@ex.com,L{i},Co {i}\n" for i in range(150)))
    async with service(sandbox, tmp_path, poll_every=poll_every) as running:
        fetched = every_record_fetched(running, sandbox, "hooked")
        await upload(sandbox, tmp_path, str(source), "hooked")
        with anyio.fail_after(60):
            await fetched.wait()
        lines = (tmp_path / "data" / "campaigns" / "hooked.ndjson").read_bytes().splitlines()
        ids = Counter(orjson.loads(line)["id"] for line in lines)
        assert len(ids) == 150 and set(ids.values()) == {1}  # each once
        with open_registry(state_dir()) as registry:
            found = Counter(v for (v,) in registry.db.execute("SELECT via FROM announced"))
        assert found.total() == 150
        if via != {"webhook", "sweep"}:  # a mix depends on timing: the invariant above holds
            assert set(found) == via
        if dupes == 1.0:  # once the twin's last copies are out: each sent twice, kept once
            await asyncio.gather(*sandbox.legacy._sending)
            assert len(sandbox.legacy.deliveries) % 2 == 0
        async with aiohttp.ClientSession() as http:
            url = f"{running.url}/hooks/campaigns/{registry_token('hooked')}"
            async with http.post(url, data=b"{not json") as answer:
                assert answer.status == 400
            async with http.post(url, json={"slug": "hooked", "records": ["x"]}) as answer:
                assert answer.status == 400
            async with http.post(f"{running.url}/hooks/campaigns/nope", json={}) as answer:
                assert answer.status == 404
            async with http.post(url, json={"slug": "hooked", "records": sorted(ids)[:5]}
                                 ) as answer:  # a late copy of a delivery: nothing again
                assert answer.status == 200 and (await answer.json())["new"] == 0


def registry_token(slug: str) -> str:
    with open_registry(state_dir()) as registry:
        return str(registry.db.execute("SELECT hook_token FROM campaigns WHERE slug = ?",
                                       (slug,)).fetchone()[0])


async def test_into_a_client_through_the_service(sandbox: Sandbox, tmp_path: Path) -> None:
    before = leads_of(sandbox)
    async with service(sandbox, tmp_path, poll_every=1.0) as running:
        fetched = every_record_fetched(running, sandbox, "roundtrip")
        await upload(sandbox, tmp_path, "client:acme-corp", "roundtrip", "--into-client",
                     "acme-corp")
        with anyio.fail_after(90):
            await fetched.wait()
    after = leads_of(sandbox)
    assert after.keys() == before.keys()  # nothing created
    assert all(lead["notes"].count("Industry: ") == 1 for lead in after.values())
    outputs: list[Any] = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in outputs:
        assert sandbox.legacy_api_key.encode() not in path.read_bytes()


async def test_a_webhook_url_of_your_own(sandbox: Sandbox, tmp_path: Path) -> None:
    """--webhook-url URL: LeadGenius calls it with the finalized ids; the URL (which may
    carry a token of its own) is written to none of the job's files."""
    got: list[dict[str, Any]] = []
    every = anyio.Event()

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.json())
        if sum(len(d["records"]) for d in got) >= 40:
            every.set()
        return web.Response(status=204)

    sandbox.config.legacy_webhook_loss = sandbox.config.legacy_webhook_dupes = 0.0
    app = web.Application()
    app.router.add_post("/hooks/mine-s3cr3t", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        source = tmp_path / "few.csv"
        source.write_text("Email,Last Name\n" + "".join(f"w{i}@ex.com,L{i}\n" for i in range(40)))
        argv = [sys.executable, "-m", "bulkio", "campaign", "upload", str(source), "--campaign",
                "own", "--type", "datahub", "--webhook-url",
                f"http://127.0.0.1:{port}/hooks/mine-s3cr3t", "--legacy-rate", "unlimited",
                "--quiet", "--job-dir", str(tmp_path / "job")]
        with anyio.fail_after(60):
            done = await anyio.run_process(argv, env=full_env(sandbox, tmp_path), check=False)
            assert done.returncode == 0, done.stderr.decode()
            await every.wait()
    finally:
        await runner.cleanup()
    assert {i for d in got for i in d["records"]} == set(
        i for (i,) in sandbox.state.store.db.execute("SELECT id FROM lg_records WHERE slug = "
                                                     "'own'"))
    for path in (tmp_path / "job").rglob("*"):
        if path.is_file():
            assert b"s3cr3t" not in path.read_bytes()
