"""`bulkio serve`'s API against a real service process and the sandbox: every endpoint and
error code of the LeadVibe seed, jobs through to the sandbox's own data, access."""

from __future__ import annotations

import csv
import io
import signal
from collections import Counter
from pathlib import Path

import aiohttp
import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox
from tests.ops.imports.test_import import expected_sample_emails, server_emails
from tests.service.calls import call, preview, start_body, until_ended
from tests.service.conftest import Served, start_service, stop_service


async def test_an_upload_over_the_limit_is_413_and_not_kept(
        sandbox: Sandbox, tmp_path: Path, http: aiohttp.ClientSession) -> None:
    served = await start_service(sandbox, tmp_path, "--max-upload-mb", "1")
    try:
        big = b"email,name\n" + b"".join(b"user%07d@acme.com,Name %d\n" % (i, i)
                                         for i in range(60_000))
        assert len(big) > 1 << 20
        status, body = await preview(http, served, big)
        assert status == 413 and "1 MB" in body["error"]
        assert not list((served.data_dir / "uploads").glob("*"))
    finally:
        await stop_service(served)


async def test_an_import_job_runs_to_the_end(sandbox: Sandbox, service: Served,
                                             http: aiohttp.ClientSession) -> None:
    """Seed names as synonyms, alias columns to notes, create-or-update by default; counts
    that match the sandbox's data and the row errors, paged."""
    _, body = await preview(http, service)
    status, started = await call(http, service, "POST", "/leads/import/start", json=start_body(
        body["file_id"], field_mappings={
            "First Name": "first_name", "Last Name": "last_name", "Company Name": "company",
            "Job Title": "title", "Website": "favourite_colour"},
        alias_mappings={"Phone 1": "_alias_phone"}))
    assert status == 202 and started["status"] == "queued" and started["total_rows"] == 2000
    job = await until_ended(http, service, started["job_id"])
    stored = server_emails(sandbox)
    assert set(stored) == expected_sample_emails() and max(stored.values()) == 1
    assert job["status"] == "completed" and job["created_count"] == len(stored)
    assert job["failed_count"] == job["errors_total"] > 0
    assert job["created_count"] + job["skipped_count"] + job["failed_count"] == 2000
    assert any("favourite_colour" in n for n in job["notices"])
    assert any("Alias" in n for n in job["notices"])
    lead = sandbox.state.store.db.execute(
        "SELECT data FROM leads WHERE json_extract(data, '$.email') = ?",
        ("linda.white.0@cyberdyne.ai",)).fetchone()
    record = orjson.loads(lead[0])
    assert record["notes"].startswith("Alias (phone): +1 (555)") and "companyUrl" not in record
    first = job["errors"][0]
    assert set(first) == {"row", "error", "value"} and isinstance(first["row"], int)
    values = {e["value"] for e in job["errors"]}
    assert "@example.com" in values and "'@example.com" not in values  # as typed, unguarded
    status, paged = await call(http, service, "GET",
                               f"/leads/import/jobs/{started['job_id']}?errors_page=2&errors_limit=5")
    assert len(paged["errors"]) == 5 and paged["errors"][0] == job["errors"][5]
    async with http.get(f"{service.url}/leads/import/jobs/{started['job_id']}/rejects",
                        headers=service.bearer()) as resp:
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert resp.status == 200 and len(rows) == job["errors_total"]


async def test_jobs_are_listed_and_paged(service: Served, http: aiohttp.ClientSession) -> None:
    _, body = await preview(http, service, b"E-mail,First Name\nada@acme.com,Ada\n")
    ids = []
    for _ in range(3):
        _, started = await call(http, service, "POST", "/leads/import/start",
                                json=start_body(body["file_id"]))
        ids.append(started["job_id"])
    for job_id in ids:
        await until_ended(http, service, job_id)
    status, listed = await call(http, service, "GET", "/leads/import/jobs?page=1&limit=2")
    assert status == 200 and listed["total"] == 3 and listed["limit"] == 2
    assert [j["job_id"] for j in listed["jobs"]] == ids[::-1][:2]
    assert set(listed["jobs"][0]) >= {"job_id", "status", "file_name", "created_at",
                                      "completed_at", "total_rows", "created_count",
                                      "updated_count", "failed_count"}
    _, capped = await call(http, service, "GET", "/leads/import/jobs?limit=500")
    assert capped["limit"] == 100
    _, default = await call(http, service, "GET", "/leads/import/jobs")
    assert default["limit"] == 25 and default["page"] == 1
    second = await call(http, service, "GET", f"/leads/import/jobs/{ids[1]}")
    assert second[1]["updated_count"] == 1  # the same lead again: updated, as the LeadVibe API says
    assert (await call(http, service, "GET", "/leads/import/jobs/job_nope"))[0] == 404


async def test_a_job_is_cancelled(sandbox: Sandbox, service: Served,
                                  http: aiohttp.ClientSession) -> None:
    sandbox.config.latency_ms = (40, 60)
    _, body = await preview(http, service)
    _, started = await call(http, service, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    reached = sandbox.state.when("POST /api/leads", 100)
    with anyio.fail_after(60):
        await reached.wait()
    status, _ = await call(http, service, "POST",
                           f"/leads/import/jobs/{started['job_id']}/cancel")
    assert status == 202
    job = await until_ended(http, service, started["job_id"])
    assert job["status"] == "cancelled" and len(server_emails(sandbox)) < 1901
    status, _ = await call(http, service, "POST", f"/leads/import/jobs/{started['job_id']}/cancel")
    assert status == 409


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_stopped_mid_job_the_service_resumes_it_exactly_once(
        sandbox: Sandbox, tmp_path: Path, http: aiohttp.ClientSession, sig: int) -> None:
    sandbox.config.latency_ms = (20, 40)
    sandbox.config.lost_response_rate = 0.02
    served = await start_service(sandbox, tmp_path)
    _, body = await preview(http, served)
    _, started = await call(http, served, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    reached = sandbox.state.when("POST /api/leads", 400)
    with anyio.fail_after(60):
        await reached.wait()
    assert await stop_service(served, sig) == (-signal.SIGKILL if sig == signal.SIGKILL else 0)
    again = await start_service(sandbox, tmp_path, data_dir=served.data_dir)
    try:
        assert again.token == served.token  # made once, kept
        job = await until_ended(http, again, started["job_id"])
        sandbox.config.lost_response_rate = 0.0
        stored = server_emails(sandbox)
        assert job["status"] == "completed"
        assert set(stored) == expected_sample_emails() and max(stored.values()) == 1
    finally:
        await stop_service(again)


async def test_export_and_purge_jobs(sandbox: Sandbox, service: Served,
                                     http: aiohttp.ClientSession) -> None:
    _, body = await preview(http, service)
    _, started = await call(http, service, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    await until_ended(http, service, started["job_id"])
    status, export = await call(http, service, "POST", "/exports", json={
        "kind": "enrich", "clients": ["acme-corp"], "fields": ["email"], "format": "csv"})
    assert status == 202
    done = await until_ended(http, service, export["job_id"], path="/jobs/")
    assert done["status"] == "completed"
    async with http.get(f"{service.url}/exports/{export['job_id']}/download",
                        headers=service.bearer()) as resp:
        exported = list(csv.DictReader(io.StringIO((await resp.read()).decode())))
    assert {r["email"].lower() for r in exported} == set(server_emails(sandbox))
    status, plan = await call(http, service, "POST", "/purges",
                              json={"client": "acme-corp", "dry_run": True})
    assert status == 200 and plan["leads"] == len(exported)
    status, refused = await call(http, service, "POST", "/purges",
                                 json={"client": "acme-corp", "confirm": "acme"})
    assert status == 400 and "acme-corp" in refused["error"]
    status, purge = await call(http, service, "POST", "/purges",
                               json={"client": "acme-corp", "confirm": "acme-corp"})
    assert status == 202
    purged = await until_ended(http, service, purge["job_id"], path="/jobs/")
    assert purged["status"] == "completed" and not server_emails(sandbox)


async def test_no_secret_anywhere(sandbox: Sandbox, service: Served,
                                  http: aiohttp.ClientSession) -> None:
    """Neither LeadGenius's secrets nor the service token in any page, log or job file."""
    _, body = await preview(http, service)
    _, started = await call(http, service, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    await until_ended(http, service, started["job_id"])
    async with http.get(service.url + "/") as resp:
        page = await resp.read()
    secrets = [sandbox.password, sandbox.api_key, sandbox.token, service.token]
    files = [p for p in service.data_dir.rglob("*")
             if p.is_file() and p.name != "service-token"]
    blobs = [page, service.stderr.read_bytes(), *(p.read_bytes() for p in files)]
    for secret in secrets:
        assert not any(secret.encode() in blob for blob in blobs), secret[:6]
    assert oct((service.data_dir / "service-token").stat().st_mode & 0o777) == "0o600"
    assert Counter(p.suffix for p in files)[".db"] >= 1  # the job journals were looked at


async def test_jobs_wait_their_turn_and_a_failing_one_says_why(
        sandbox: Sandbox, service: Served, http: aiohttp.ClientSession) -> None:
    """One job at a time: the second is queued while the first runs; the second's client is
    deleted meanwhile, so it fails, with the reason."""
    sandbox.config.latency_ms = (40, 60)
    status, made = await call(http, service, "POST", "/clients", json={"name": "Short Lived"})
    assert status == 201
    _, body = await preview(http, service)
    _, first = await call(http, service, "POST", "/leads/import/start",
                          json=start_body(body["file_id"]))
    _, second = await call(http, service, "POST", "/leads/import/start",
                           json=start_body(body["file_id"], client=made["client"]["slug"]))
    reached = sandbox.state.when("POST /api/leads", 20)
    with anyio.fail_after(60):
        await reached.wait()
    _, waiting = await call(http, service, "GET", f"/leads/import/jobs/{second['job_id']}")
    assert waiting["status"] == "queued"
    client = sandbox.state.store.find_client(sandbox.company_id, made["client"]["slug"])
    assert client is not None
    sandbox.state.store.delete_client(sandbox.company_id, client["id"])
    await call(http, service, "POST", f"/leads/import/jobs/{first['job_id']}/cancel")
    failed = await until_ended(http, service, second["job_id"])
    assert failed["status"] == "failed" and "short-lived" in failed["message"]




async def test_the_data_directory_is_private_under_umask_022(
        sandbox: Sandbox, tmp_path: Path, http: aiohttp.ClientSession) -> None:
    """Started under umask 022, after an upload and an import job: the data directory and
    everything in it (uploads, the job's input copy, journals, logs, service.db) 0700/0600."""
    import os
    import stat

    served = await start_service(sandbox, tmp_path, umask="022")
    try:
        _, body = await preview(http, served)
        _, started = await call(http, served, "POST", "/leads/import/start",
                                json=start_body(body["file_id"]))
        await until_ended(http, served, started["job_id"])
        names, wrong = set(), {}
        for root, folders, files in os.walk(served.data_dir):
            for name in (*folders, *files):
                path = os.path.join(root, name)
                names.add(name)
                want = 0o700 if os.path.isdir(path) else 0o600
                if stat.S_IMODE(os.lstat(path).st_mode) != want:
                    wrong[path] = oct(stat.S_IMODE(os.lstat(path).st_mode))
        assert {"service.db", "input.csv", "journal.db", "log.txt", "uploads"} <= names
        assert not wrong and stat.S_IMODE(os.stat(served.data_dir).st_mode) == 0o700, wrong
    finally:
        await stop_service(served)


async def test_a_downloaded_rejects_file_holds_no_live_formula(
        service: Served, http: aiohttp.ClientSession) -> None:
    """The page offers the rejects file to people who open it in a spreadsheet: cells that
    would run there come with a ' in front."""
    formulas = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)",
                "-2+3"]
    body = io.StringIO()
    writer = csv.writer(body)
    writer.writerow(["E-mail", "First Name", "Last Name"])
    writer.writerow(["ok@example.com", "Ann", "Lee"])
    for formula in formulas:
        writer.writerow(["not an email", formula, "Lee"])
    _, previewed = await preview(http, service, body.getvalue().encode())
    _, started = await call(http, service, "POST", "/leads/import/start", json=start_body(
        previewed["file_id"], field_mappings={"First Name": "first_name", "Last Name": "last_name"}))
    await until_ended(http, service, started["job_id"])
    async with http.get(f"{service.url}/leads/import/jobs/{started['job_id']}/rejects",
                        headers=service.bearer()) as resp:
        rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert resp.status == 200 and [r["First Name"] for r in rows] == ["'" + f for f in formulas]


async def test_undo_is_refused_while_running_and_without_the_slug(
        sandbox: Sandbox, service: Served, http: aiohttp.ClientSession) -> None:
    sandbox.config.latency_ms = (20, 40)
    _, body = await preview(http, service)
    _, started = await call(http, service, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    job_id = started["job_id"]
    status, refused = await call(http, service, "POST", f"/leads/import/jobs/{job_id}/undo",
                                 json={"confirm": "acme-corp"})
    assert status == 409 and "still running" in refused["error"]
    with anyio.fail_after(60):
        await sandbox.state.when("POST /api/leads", 100).wait()
    await call(http, service, "POST", f"/jobs/{job_id}/cancel")
    await until_ended(http, service, job_id)
    created = len(server_emails(sandbox))
    status, refused = await call(http, service, "POST", f"/leads/import/jobs/{job_id}/undo",
                                 json={"confirm": "acme"})
    assert status == 400 and "acme-corp" in refused["error"]
    status, undo = await call(http, service, "POST", f"/leads/import/jobs/{job_id}/undo",
                              json={"confirm": "acme-corp"})
    assert status == 202
    done = await until_ended(http, service, undo["job_id"], path="/jobs/")
    assert done["status"] == "completed", done["message"]
    assert done["deleted"] == done["found"] == created > 0
    assert not server_emails(sandbox)
    status, _ = await call(http, service, "POST", "/leads/import/jobs/job_0000000000000000/undo",
                           json={"confirm": "acme-corp"})
    assert status == 404
