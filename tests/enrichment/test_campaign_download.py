"""`bulkio campaign download` against the legacy twin, as real processes: every record once,
in order, through a kill -9 and --resume; --wait for this machine's records; --ids; links
followed only on the API's own origin; and the round trip into a Pro client (each lead
updated once with its enriched values, nothing created twice, a second run changing nothing)."""

from __future__ import annotations

import gzip
import signal
import sys
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import anyio
import orjson
import pytest

from bulkio.enrichment.client import EnrichmentClient
from bulkio.enrichment.settings import EnrichmentSettings
from bulkio.errors import ApiError
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.enrichment.test_campaign_status import env_for
from tests.processes import stop_after

pytestmark = pytest.mark.slow  # real processes


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, legacy_campaigns=True, legacy_rate=None,
                         legacy_enrich_seconds=(0.5, 2.0), clients=1, leads=250,
                         latency_ms=(1, 5))


def full_env(sb: Sandbox, tmp_path: Path) -> dict[str, str]:
    env = env_for(sb)
    env.update(LEADGENIUS_API_KEY=sb.api_key, LEADGENIUS_USER_ID=sb.user_id,
               LEADGENIUS_EMAIL=sb.email, LEADGENIUS_PASSWORD=sb.password,
               LEADGENIUS_BASE_URL=sb.base_url, LEADGENIUS_AUTH_FILE=str(tmp_path / "auth"))
    return env


async def bulkio(sb: Sandbox, tmp_path: Path, *argv: str) -> CompletedProcess[bytes]:
    with anyio.fail_after(120):
        return await anyio.run_process(
            [sys.executable, "-m", "bulkio", "campaign", *argv, "--legacy-rate", "unlimited",
             "--quiet"], env=full_env(sb, tmp_path), check=False, cwd=tmp_path)


def upload_directly(sb: Sandbox, slug: str, count: int) -> None:
    """Records someone else uploaded (not this machine): straight into the twin."""
    sb.legacy.store.upload(slug, "datahub", [], None,
                           [{"contact_email": f"c{i}@x.org", "contact_last_name": f"L{i}"}
                            for i in range(count)], sb.legacy.rng, (0.0, 0.0))


def twin_ids(sb: Sandbox, slug: str) -> list[int]:
    return [i for (i,) in sb.state.store.db.execute(
        "SELECT id FROM lg_records WHERE slug = ? ORDER BY id", (slug,))]


@pytest.mark.parametrize("name", ["records.csv", "records.ndjson.gz"])
async def test_killed_mid_download_then_resumed_writes_each_record_once(
        sandbox: Sandbox, tmp_path: Path, name: str) -> None:
    upload_directly(sandbox, "big", 1_234)
    out, job = tmp_path / name, tmp_path / "job"
    argv = [sys.executable, "-m", "bulkio", "campaign", "download", "big", "--out", str(out),
            "--job-dir", str(job), "--legacy-rate", "unlimited", "--quiet"]
    code, _ = await stop_after(sandbox, argv, env_for(sandbox),
                               event="GET /api/v1/enrichment/retrieve/big/", count=6,
                               sig=signal.SIGKILL)
    assert code == -signal.SIGKILL and not out.exists()
    done = await bulkio(sandbox, tmp_path, "download", "big", "--out", str(out), "--job-dir",
                        str(job), "--resume")
    assert done.returncode == 0, done.stderr.decode()
    data = gzip.decompress(out.read_bytes()) if name.endswith(".gz") else out.read_bytes()
    if name.endswith(".csv"):
        lines = data.decode().splitlines()
        assert lines[0].startswith("id,status,created,finalized,org_city,")
        ids = [int(line.split(",")[0]) for line in lines[1:]]
    else:
        ids = [orjson.loads(line)["id"] for line in data.splitlines()]
    assert ids == twin_ids(sandbox, "big")  # each once, in order
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["records"] == 1_234 and report["pages"] == 13
    assert not list(tmp_path.glob("*.part"))


async def test_wait_for_this_machines_records_then_only_those_ids(
        sandbox: Sandbox, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("Email,Last Name,Company\n" + "".join(
        f"p{i}@ex.com,L{i},Co {i}\n" for i in range(120)))
    upload_directly(sandbox, "spring", 30)  # someone else's records, not finalized yet
    sandbox.state.store.db.execute("UPDATE lg_records SET due = 1e12")
    done = await bulkio(sandbox, tmp_path, "upload", str(source), "--campaign", "spring",
                        "--type", "datahub", "--settle", "1")
    assert done.returncode == 0, done.stderr.decode()
    out = tmp_path / "spring.ndjson"
    done = await bulkio(sandbox, tmp_path, "download", "spring", "--out", str(out), "--wait",
                        "--finalized-only")
    assert done.returncode == 0, done.stderr.decode()
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(records) == 120 and all(r["finalized"] and r["org_industry"] for r in records)
    status = await bulkio(sandbox, tmp_path, "status", "spring", "--json")
    counts = orjson.loads(status.stdout)["campaign"]  # this machine's, among others' pending
    assert (counts["count_uploaded"], counts["count_enriched"]) == (150, 120)
    assert (counts["uploaded_here"], counts["finalized_here"]) == (120, 120)
    wanted = twin_ids(sandbox, "spring")[40:43]
    ids = tmp_path / "ids.txt"
    ids.write_text("".join(f"{i}\n" for i in wanted))
    done = await bulkio(sandbox, tmp_path, "download", "spring", "--out",
                        str(tmp_path / "three.csv"), "--ids", str(ids))
    assert done.returncode == 0, done.stderr.decode()
    lines = (tmp_path / "three.csv").read_text().splitlines()
    assert [int(line.split(",")[0]) for line in lines[1:]] == wanted
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert sandbox.legacy_api_key.encode() not in path.read_bytes()


async def test_a_next_link_off_the_apis_origin_is_not_followed() -> None:
    class Refuses:
        async def send(self, request: Any) -> Any:
            raise AssertionError("no request may be sent")

    api = EnrichmentClient(EnrichmentSettings(base_url="https://leadgenius.com", key="k"),
                           Refuses())
    with pytest.raises(ApiError, match=r"leads off https://leadgenius\.com"):
        await api.follow("https://elsewhere.example/api/v1/enrichment/retrieve/x/?page=2")


def leads_of(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return {i: orjson.loads(d) for i, d in sb.state.store.db.execute("SELECT id, data FROM leads")}


async def test_round_trip_a_client_through_a_campaign(sandbox: Sandbox, tmp_path: Path) -> None:
    before = leads_of(sandbox)
    done = await bulkio(sandbox, tmp_path, "upload", "client:acme-corp", "--campaign", "acme",
                        "--type", "enrichment", "--settle", "1")
    assert done.returncode == 0, done.stderr.decode()
    done = await bulkio(sandbox, tmp_path, "download", "acme", "--into-client", "acme-corp",
                        "--wait", "--rate", "unlimited")
    assert done.returncode == 0, done.stderr.decode()
    after = leads_of(sandbox)
    assert after.keys() == before.keys()  # nothing created
    enriched = {orjson.loads(d)["contact_record_id"]: orjson.loads(d) for (d,) in
                sandbox.state.store.db.execute("SELECT data FROM lg_records")}
    for lead_id, lead in after.items():
        record = enriched[lead_id]
        assert lead["notes"].count("Industry: ") == 1
        assert f"Industry: {record['org_industry']}" in lead["notes"]
    [trip] = [orjson.loads(p.read_bytes()) for p in tmp_path.rglob("round-trip.json")]
    assert trip["matched_by_key"] == trip["updated"] == len(before)
    done = await bulkio(sandbox, tmp_path, "download", "acme", "--into-client", "acme-corp",
                        "--rate", "unlimited")
    assert done.returncode == 0, done.stderr.decode()
    assert leads_of(sandbox) == after  # a second run changes nothing


async def test_round_trip_of_a_file_updates_known_emails_and_imports_the_rest_once(
        sandbox: Sandbox, tmp_path: Path) -> None:
    known = [lead["email"] for lead in list(leads_of(sandbox).values())[:30]]
    source = tmp_path / "list.csv"
    source.write_text("Email,Last Name,Company\n" + "".join(
        f"{email},Known,Known Co\n" for email in known) + "".join(
        f"new{i}@fresh.org,New{i},Fresh\n" for i in range(20)))
    done = await bulkio(sandbox, tmp_path, "upload", str(source), "--campaign", "lists",
                        "--type", "datahub", "--settle", "1")
    assert done.returncode == 0, done.stderr.decode()
    count = len(leads_of(sandbox))
    for _ in range(2):  # a second run imports nothing again
        done = await bulkio(sandbox, tmp_path, "download", "lists", "--into-client",
                            "acme-corp", "--wait", "--rate", "unlimited")
        assert done.returncode == 0, done.stderr.decode()
        leads = leads_of(sandbox)
        assert len(leads) == count + 20
        fresh = [lead for lead in leads.values() if lead.get("email", "").endswith("@fresh.org")]
        assert len(fresh) == 20 and all("Industry: " in lead["notes"] for lead in fresh)
