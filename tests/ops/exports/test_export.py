"""bulkio export against the sandbox, in process: what lands in the file, and the manifest."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import logging
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

from bulkio.api import export_leads, iter_leads
from bulkio.errors import ConfigError, UnknownClient
from bulkio.http.retry import RetryPolicy
from bulkio.leadgenius.settings import Credentials, Settings
from bulkio.models import EXPORT_REPORT_KEYS, ExportReport
from bulkio.ops.exports.exporter import Exporter
from bulkio.sandbox import Sandbox, SandboxConfig
from bulkio.sandbox.store import ENRICH, SOURCE

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=3, leads=2500,
                         source_leads=700)


def settings_for(sb: Sandbox, *, api_key: bool = True, **extra: Any) -> Settings:
    creds = Credentials(email=sb.email, password=sb.password,
                        api_key=sb.api_key if api_key else None,
                        user_id=sb.user_id if api_key else None)
    extra.setdefault("rate_per_minute", None)
    return Settings(base_url=sb.base_url, credentials=creds, **extra)


async def run(sb: Sandbox, out: Path, tmp_path: Path, **options: Any) -> ExportReport:
    options.setdefault("job_dir", tmp_path / "job")
    options.setdefault("page_size", 400)
    settings = options.pop("settings", None) or settings_for(sb)
    return await export_leads(out, settings=settings, policy=FAST, **options)


def stored(sb: Sandbox, kind: int = ENRICH, client: str | None = None) -> dict[str, dict[str, Any]]:
    """The leads as the sandbox's own store holds them, by id."""
    sql, params = "SELECT id, data FROM leads WHERE kind = ?", [str(kind)]
    if client:
        sql += " AND client_id = ?"
        params.append(client)
    return {i: orjson.loads(d) for i, d in sb.state.store.db.execute(sql, params)}


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return [orjson.loads(line) for line in data.splitlines()]


def read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


def assert_exactly_once(records: list[dict[str, Any]], expected: dict[str, dict[str, Any]]) -> None:
    ids = Counter(r["id"] for r in records)
    assert set(ids.values()) == {1}, "a record was written twice"
    assert set(ids) == set(expected)


async def test_every_client_every_record_once_with_a_true_manifest(sandbox: Sandbox,
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "leads.ndjson"
    report = await run(sandbox, out, tmp_path)
    records = read_ndjson(out)
    expected = stored(sandbox)
    assert_exactly_once(records, expected)
    assert all(r == expected[r["id"]] for r in records)  # whole records, unchanged
    assert report.records == len(expected) == 2500 and report.duplicates_dropped == 0
    assert report.bytes == out.stat().st_size and report.ok
    assert not out.with_name("leads.ndjson.part").exists()

    manifest = orjson.loads(out.with_name("leads.ndjson.manifest.json").read_bytes())
    assert manifest["records"] == 2500 and manifest["kind"] == "enrich-leads"
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["bytes"] == out.stat().st_size
    per_client = Counter(r["client_id"] for r in records)
    assert manifest["records_per_client"] == dict(per_client)
    assert sorted(manifest["clients"]) == sorted(per_client)
    assert manifest["company_id"] == sandbox.company_id and manifest["bulkio_version"]
    assert manifest["started_at"] <= manifest["finished_at"]
    assert manifest["pages"] == report.pages

    saved = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert tuple(saved) == EXPORT_REPORT_KEYS and saved["records"] == 2500
    assert saved["requests"] >= report.pages


async def test_projection_keeps_only_the_fields_and_id(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "slim.jsonl"
    await run(sandbox, out, tmp_path, fields=("email", "companyName"), client="acme-corp")
    records = read_ndjson(out)
    expected = stored(sandbox, client="acme-corp")
    assert_exactly_once(records, expected)
    for r in records:
        assert set(r) <= {"id", "email", "companyName"} and "id" in r
        assert r.get("email") == expected[r["id"]].get("email")


@pytest.mark.parametrize("envelope", ["flat", "wrapped"])
async def test_both_envelopes(sandbox: Sandbox, tmp_path: Path, envelope: str) -> None:
    sandbox.config.envelope = envelope
    out = tmp_path / "out.ndjson"
    await run(sandbox, out, tmp_path)
    assert_exactly_once(read_ndjson(out), stored(sandbox))


async def test_gzip_ndjson_is_a_valid_gzip_file(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "leads.ndjson.gz"
    report = await run(sandbox, out, tmp_path, page_size=300)
    assert_exactly_once(read_ndjson(out), stored(sandbox))
    assert report.bytes == out.stat().st_size < sum(len(orjson.dumps(r)) for r in stored(sandbox).values())


async def test_csv_header_is_exactly_the_fields(sandbox: Sandbox, tmp_path: Path) -> None:
    lead = sandbox.state.store.insert_lead(sandbox.company_id, sandbox.user_id, {
        "client_id": "acme-corp", "firstName": "Nested", "lastName": "Values",
        "email": "nested@example.com", "aiQualification": {"fit": "high", "why": ["size", "a,b"]},
        "aiLeadScore": 87})
    out = tmp_path / "leads.csv.gz"
    await run(sandbox, out, tmp_path, client="acme-corp",
              fields=("email", "aiQualification", "aiLeadScore"))
    rows = read_csv(out)
    assert rows[0] == ["email", "aiQualification", "aiLeadScore"]
    expected = stored(sandbox, client="acme-corp")
    assert len(rows) - 1 == len(expected)
    by_email = {r[0]: r for r in rows[1:]}
    assert by_email["nested@example.com"] == [
        "nested@example.com", '{"fit":"high","why":["size","a,b"]}', "87"]
    assert lead["id"] in expected


async def test_csv_without_fields_has_the_union_of_keys(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.state.store.insert_lead(sandbox.company_id, sandbox.user_id, {
        "client_id": "acme-corp", "firstName": "Only", "lastName": "Here",
        "email": "rare@example.com", "rareField": "x"})
    out = tmp_path / "all.csv"
    report = await run(sandbox, out, tmp_path)
    rows = read_csv(out)
    expected = stored(sandbox)
    keys = set().union(*expected.values())
    assert rows[0][0] == "id" and set(rows[0]) == keys and len(rows[0]) == len(keys)
    assert sorted(r[0] for r in rows[1:]) == sorted(expected)
    assert report.records == len(expected)
    assert not list((tmp_path / "job").glob("*.spill.ndjson"))


async def test_kind_all_writes_one_file_per_kind(sandbox: Sandbox, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    report = await run(sandbox, folder, tmp_path, kind="all")
    assert_exactly_once(read_ndjson(folder / "enrich-leads.ndjson"), stored(sandbox, ENRICH))
    assert_exactly_once(read_ndjson(folder / "source-leads.ndjson"), stored(sandbox, SOURCE))
    assert report.records == 2500 + 700 and len(report.manifests) == 2
    source_manifest = orjson.loads((folder / "source-leads.ndjson.manifest.json").read_bytes())
    assert source_manifest["records"] == 700 and source_manifest["kind"] == "source-leads"


async def test_kind_all_to_a_file_name_inserts_the_kind(sandbox: Sandbox, tmp_path: Path) -> None:
    await run(sandbox, tmp_path / "tenant.ndjson", tmp_path, kind="all", page_size=5000)
    assert len(read_ndjson(tmp_path / "tenant.enrich-leads.ndjson")) == 2500
    assert len(read_ndjson(tmp_path / "tenant.source-leads.ndjson")) == 700


async def test_records_the_server_repeats_are_dropped_and_counted(sandbox: Sandbox,
                                                                  tmp_path: Path) -> None:
    sandbox.state.chaos.rng.seed(7)
    sandbox.config.page_repeat = 0.5
    out = tmp_path / "out.ndjson"
    report = await run(sandbox, out, tmp_path, page_size=100)
    assert_exactly_once(read_ndjson(out), stored(sandbox))
    repeated = sandbox.state.counts.get("page_repeated", 0)
    assert repeated > 5 and report.duplicates_dropped == repeated
    manifest = orjson.loads(out.with_name("out.ndjson.manifest.json").read_bytes())
    assert manifest["duplicates_dropped"] == repeated and manifest["records"] == 2500


async def test_leads_filed_under_a_client_uuid_are_exported_and_flagged(
        sandbox: Sandbox, tmp_path: Path) -> None:
    client = sandbox.state.store.find_client(sandbox.company_id, "acme-corp")
    assert client is not None
    sandbox.state.store.insert_lead(sandbox.company_id, sandbox.user_id, {
        "client_id": client["id"], "firstName": "In", "lastName": "Visible",
        "email": "invisible@example.com"})
    out = tmp_path / "acme.ndjson"
    await run(sandbox, out, tmp_path, client="acme-corp")
    emails = {r["email"] for r in read_ndjson(out)}
    assert "invisible@example.com" in emails
    manifest = orjson.loads(out.with_name("acme.ndjson.manifest.json").read_bytes())
    assert manifest["filed_under_client_uuid"] == {"acme-corp": 1}
    assert manifest["records_per_client"]["acme-corp"] == len(emails)


async def test_single_cursor_pages_every_client_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "one.ndjson"
    report = await run(sandbox, out, tmp_path, single_cursor=True, page_size=1000)
    assert_exactly_once(read_ndjson(out), stored(sandbox))
    assert report.pages == 3
    manifest = orjson.loads(out.with_name("one.ndjson.manifest.json").read_bytes())
    assert manifest["cursors"] == "single" and manifest["records_per_client"] == {"ALL": 2500}


async def test_without_an_api_key_the_jwt_list_is_used_with_a_warning(
        sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "jwt.ndjson"
    with caplog.at_level(logging.WARNING, logger="bulkio"):
        report = await run(sandbox, out, tmp_path, settings=settings_for(sandbox, api_key=False),
                           fields=("email",))
    assert "LEADGENIUS_API_KEY" in caplog.text
    records = read_ndjson(out)
    assert_exactly_once(records, stored(sandbox))
    assert all(set(r) <= {"id", "email"} for r in records)  # projected here, not by the server
    assert sandbox.state.counts.get("GET /api/enrich-leads/list", 0) == 0
    assert report.records == 2500


async def test_source_leads_without_an_api_key_is_a_clear_error(sandbox: Sandbox,
                                                                tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="API key"):
        await run(sandbox, tmp_path / "s.ndjson", tmp_path, kind="source",
                  settings=settings_for(sandbox, api_key=False))


async def test_an_unknown_client_is_a_clear_error(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(UnknownClient):
        await run(sandbox, tmp_path / "x.ndjson", tmp_path, client="no-such-client")
    assert not (tmp_path / "x.ndjson").exists()


async def test_an_unknown_format_is_a_clear_error(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="format"):
        await run(sandbox, tmp_path / "leads.xlsx", tmp_path)


async def test_a_name_without_a_suffix_is_ndjson(sandbox: Sandbox, tmp_path: Path) -> None:
    await run(sandbox, tmp_path / "leads", tmp_path, client="acme-corp")
    assert_exactly_once(read_ndjson(tmp_path / "leads"), stored(sandbox, client="acme-corp"))


async def test_an_expired_cursor_is_paged_again_without_duplicates(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An export stopped mid-way, resumed when the server no longer accepts its saved cursor:
    that client is paged again from the start, and what was written before is dropped."""
    out = tmp_path / "out.ndjson"
    count = Exporter._count

    def stop_after_three_pages(self: Exporter, *args: Any) -> None:
        count(self, *args)
        if self.written["enrich-leads"][1] >= 3:
            scope.cancel()  # as Ctrl-C would, once three pages are checkpointed

    monkeypatch.setattr(Exporter, "_count", stop_after_three_pages)
    with anyio.CancelScope() as scope:
        await run(sandbox, out, tmp_path, client="acme-corp", page_size=100)
    monkeypatch.setattr(Exporter, "_count", count)
    assert scope.cancelled_caught and not out.exists()
    with sqlite3.connect(tmp_path / "job" / "checkpoint.db") as db:
        written = db.execute("SELECT records FROM streams WHERE key = 'enrich-leads|acme-corp'"
                             ).fetchone()[0]
        db.execute("UPDATE streams SET token = 'expired-cursor' WHERE key = 'enrich-leads|acme-corp'")
    assert written > 0
    again = await run(sandbox, out, tmp_path, client="acme-corp", page_size=100, resume=True)
    assert_exactly_once(read_ndjson(out), stored(sandbox, client="acme-corp"))
    assert again.duplicates_dropped == written


async def test_a_finished_job_is_archived_and_a_new_export_starts(sandbox: Sandbox,
                                                                  tmp_path: Path) -> None:
    """Run again, an export refuses to replace its file unless --force; with it, the finished
    job is archived and a new export starts."""
    out = tmp_path / "out.ndjson"
    await run(sandbox, out, tmp_path)
    requests = sum(sandbox.state.counts.values())
    with pytest.raises(ConfigError, match=r"out\.ndjson exists: add --force to replace it"):
        await run(sandbox, out, tmp_path)
    assert sum(sandbox.state.counts.values()) == requests and not list(tmp_path.glob("job.*"))
    report = await run(sandbox, out, tmp_path, force=True)
    assert report.records == 2500 and report.duplicates_dropped == 0
    assert len(list(tmp_path.glob("job.*"))) == 1


async def test_resume_without_a_job_is_a_clear_error(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nothing to resume"):
        await run(sandbox, tmp_path / "out.ndjson", tmp_path, resume=True)


async def test_iter_leads_yields_each_record_once(sandbox: Sandbox) -> None:
    sandbox.state.chaos.rng.seed(3)
    sandbox.config.page_repeat = 0.5
    seen = [r async for r in iter_leads(client="ALL", fields=["email"], page_size=300,
                                        settings=settings_for(sandbox))]
    assert_exactly_once(seen, stored(sandbox))
    assert all(set(r) <= {"id", "email"} for r in seen)


async def test_a_client_named_by_its_uuid_is_exported_by_its_slug(
        sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = sandbox.state.store.find_client(sandbox.company_id, "acme-corp")
    assert client is not None
    out = tmp_path / "acme.ndjson"
    with caplog.at_level(logging.WARNING, logger="bulkio"):
        report = await run(sandbox, out, tmp_path, client=client["id"])
    assert "using its slug 'acme-corp'" in caplog.text
    assert_exactly_once(read_ndjson(out), stored(sandbox, client="acme-corp"))
    assert report.records == len(stored(sandbox, client="acme-corp"))
