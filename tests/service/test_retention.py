"""`bulkio serve --keep-days N`: uploads, job inputs and finished jobs' files older than N
days are deleted at start (and every hour), said at start; the job history keeps the counts
and a deleted file answers 410 saying why."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import aiohttp

from bulkio.sandbox import Sandbox
from bulkio.service.retention import sweep
from bulkio.service.store import ServiceStore
from tests.service.calls import call, preview, start_body, until_ended
from tests.service.conftest import start_service, stop_service

DAY = 86_400


async def test_old_files_go_and_the_history_stays(sandbox: Sandbox, tmp_path: Path,
                                                 http: aiohttp.ClientSession) -> None:
    served = await start_service(sandbox, tmp_path, "--keep-days", "1")
    try:
        ended = []
        for _ in range(2):
            _, body = await preview(http, served)
            _, started = await call(http, served, "POST", "/leads/import/start",
                                    json=start_body(body["file_id"]))
            ended.append(await until_ended(http, served, started["job_id"]))
        old, recent = (job["job_id"] for job in ended)
    finally:
        await stop_service(served)
    data = served.data_dir
    assert "deleted 1 days after they were made or ended (--keep-days" in \
        served.stderr.read_text()  # said at start
    # Two days pass for the first job and for every upload so far (the clock is the records').
    with sqlite3.connect(data / "service.db") as db:
        db.execute("UPDATE jobs SET completed_at = completed_at - ? WHERE job_id = ?",
                   (2 * DAY, old))
    uploads = list((data / "uploads").iterdir())
    for path in uploads:
        os.utime(path, (time.time() - 2 * DAY,) * 2)
    served = await start_service(sandbox, tmp_path, "--keep-days", "1")
    try:
        assert not (data / "jobs" / old).exists() and (data / "jobs" / recent).exists()
        assert uploads and not any(p.exists() for p in uploads)
        status, job = await call(http, served, "GET", f"/leads/import/jobs/{old}")
        assert status == 200 and job["files_deleted"] is True
        counts = ("total_rows", "created_count", "updated_count", "failed_count")
        assert [job[k] for k in counts] == [ended[0][k] for k in counts]  # the history stays
        status, body = await call(http, served, "GET", f"/leads/import/jobs/{old}/rejects")
        assert status == 410 and "--keep-days" in body["error"]
        status, _ = await call(http, served, "GET", f"/leads/import/jobs/{recent}/rejects")
        assert status == 200
    finally:
        await stop_service(served)


def test_keep_days_0_keeps_everything(tmp_path: Path) -> None:
    store = ServiceStore(tmp_path / "service.db")
    job_id = store.create_job("import", "a.csv", {}, {})
    store.db.execute("UPDATE jobs SET status = 'completed', completed_at = 0")
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "x.csv").write_text("a")
    os.utime(tmp_path / "uploads" / "x.csv", (0, 0))
    assert sweep(store, tmp_path, 0) == (0, 0) and (tmp_path / "uploads" / "x.csv").exists()
    assert sweep(store, tmp_path, 1) == (1, 1) and store.job(job_id)["files_deleted"]  # type: ignore[index]
    store.close()
