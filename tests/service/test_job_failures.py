"""Service jobs that do not go to plan: a job failing midway counts every row, says why in
the log, and resumes exactly once; a fault of the runner itself ends one job, not the
service; a client deleted under a running import is not reported as done."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from bulkio.sandbox import Sandbox
from bulkio.service.server import run_service
from bulkio.service.store import JobStatus
from tests.ops.imports.test_import import expected_sample_emails, server_emails, settings_for
from tests.service.calls import call, preview, start_body, until_ended
from tests.service.conftest import Served

COUNTED = ("created_count", "updated_count", "skipped_count", "failed_count", "remaining_count")


def every_row_counted(job: dict[str, Any]) -> bool:
    return bool(sum(job[key] for key in COUNTED) == job["total_rows"] == 2000)


@pytest.mark.slow
@pytest.mark.parametrize("lost", [0.0, 0.05], ids=["answers", "some answers lost"])
async def test_a_job_that_fails_midway_counts_every_row_and_resumes_exactly_once(
        sandbox: Sandbox, service: Served, http: aiohttp.ClientSession, lost: float) -> None:
    """The issue's case: the API answers 500 to everything from the 38th lead on. The job
    ends failed with every row counted (done, failed, or not done yet), the reason in the
    service's log; POST .../resume continues it, and every email is stored once."""
    sandbox.config.lost_response_rate = lost
    sandbox.config.chaos_only = ("POST /api/leads",)
    _, body = await preview(http, service)
    _, started = await call(http, service, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    job_id = started["job_id"]
    with anyio.fail_after(60):
        await sandbox.state.when("POST /api/leads", 38).wait()
    sandbox.config.error_rate = 1.0
    failed = await until_ended(http, service, job_id)
    assert failed["status"] == "failed" and failed["can_resume"] is True
    assert every_row_counted(failed) and failed["remaining_count"] > 0, failed
    assert "resume the job" in failed["message"] and "--resume" not in failed["message"]
    logged = service.stderr.read_text()
    assert f"job {job_id} failed: " in logged and "got no answer" in logged

    sandbox.config.error_rate = sandbox.config.lost_response_rate = 0.0
    status, resumed = await call(http, service, "POST", f"/leads/import/jobs/{job_id}/resume")
    assert status == 202 and resumed["status"] == "queued"
    done = await until_ended(http, service, job_id)
    assert done["status"] == "completed" and done["remaining_count"] == 0
    assert every_row_counted(done) and done["can_resume"] is False
    stored = server_emails(sandbox)
    assert set(stored) == expected_sample_emails() and max(stored.values()) == 1
    assert done["created_count"] == len(stored)
    status, refused = await call(http, service, "POST", f"/jobs/{job_id}/resume")
    assert status == 409 and "completed" in refused["error"]
    status, _ = await call(http, service, "POST", "/jobs/job_0000000000000000/resume")
    assert status == 404


async def test_a_fault_of_the_runner_ends_one_job_and_the_next_runs(
        sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A fault outside a job's own handling (here the service's database failing as the job
    ends) once ended the runner's loop without a word, and every later job stayed queued."""
    async with run_service(settings_for(sandbox), tmp_path / "data", host="127.0.0.1", port=0,
                           max_upload_mb=10, settle_s=0.0) as running:
        store = running.service.store
        set_status = store.set_status
        faults: list[str] = []

        def failing_once(job_id: str, status: JobStatus, message: str | None = None) -> None:
            if status == JobStatus.COMPLETED and not faults:
                faults.append(job_id)
                raise sqlite3.OperationalError("disk I/O error")
            set_status(job_id, status, message)

        store.set_status = failing_once  # type: ignore[method-assign]
        served = Served(running.url, running.token, None, tmp_path, tmp_path / "no-log", None, {})
        async with aiohttp.ClientSession() as http:
            jobs = []
            for _ in range(2):
                _, body = await preview(http, served)
                _, started = await call(http, served, "POST", "/leads/import/start",
                                        json=start_body(body["file_id"]))
                jobs.append(started["job_id"])
            with caplog.at_level(logging.ERROR, logger="bulkio.service"):
                first = await until_ended(http, served, jobs[0])
                second = await until_ended(http, served, jobs[1])
    assert faults == [jobs[0]]
    assert first["status"] == "failed" and "OperationalError: disk I/O error" in first["message"]
    assert first["can_resume"] is True
    assert second["status"] == "completed"
    assert any(jobs[0] in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.slow
async def test_a_client_deleted_under_an_import_ends_it_failed(
        sandbox: Sandbox, service: Served, http: aiohttp.ClientSession) -> None:
    """The API stores leads under any client_id: a client deleted mid-run got its leads all
    the same, where no client shows them, and the job said `completed`."""
    sandbox.config.latency_ms = (5, 10)
    _, body = await preview(http, service)
    _, started = await call(http, service, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    with anyio.fail_after(60):
        await sandbox.state.when("POST /api/leads", 100).wait()
    release = sandbox.state.hold("POST /api/leads")  # the job waits for the delete
    client = sandbox.state.store.db.execute(
        "SELECT id FROM clients WHERE client_id = 'acme-corp'").fetchone()[0]
    async with http.delete(sandbox.base_url + "/api/clients", params={"id": client},
                           headers={"Authorization": f"Bearer {sandbox.token}"}) as resp:
        assert resp.status == 200
    release.set()
    job = await until_ended(http, service, started["job_id"])
    orphans = sum(server_emails(sandbox).values())
    assert job["status"] == "failed" and orphans > 0
    assert f"client 'acme-corp' was deleted while the import ran: {orphans:,} leads" \
        in job["message"]
