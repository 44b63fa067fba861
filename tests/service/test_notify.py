"""A job's end told to a webhook: only on hosts the operator allows, with the counts and a
link to the job's page, and the webhook's address (a secret) kept out of every record."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from aiohttp import web

from bulkio.sandbox import Sandbox
from tests.service.calls import call, preview, start_body, until_ended
from tests.service.conftest import start_service, stop_service

SECRET_PATH = "/services/T000/B000/s3cr3tXYZ"


async def test_a_job_that_ends_tells_its_webhook(sandbox: Sandbox, tmp_path: Path,
                                                 http: aiohttp.ClientSession) -> None:
    received: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        arrived.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post(SECRET_PATH, hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    served = await start_service(sandbox, tmp_path, "--notify-allow", "127.0.0.1",
                                 "--public-url", "https://bulkio.example.com/")
    try:
        _, body = await preview(http, served)
        status, refused = await call(http, served, "POST", "/leads/import/start", json=start_body(
            body["file_id"], notify_url="http://localhost:9/hook"))
        assert status == 400 and "--notify-allow" in refused["error"]
        assert "allowed now: 127.0.0.1" in refused["error"]
        status, started = await call(http, served, "POST", "/leads/import/start", json=start_body(
            body["file_id"], notify_url=f"http://127.0.0.1:{port}{SECRET_PATH}"))
        assert status == 202
        job = await until_ended(http, served, started["job_id"])
        with anyio.fail_after(30):
            await arrived.wait()
    finally:
        await stop_service(served)
        await runner.cleanup()
    [sent] = received
    assert sent["job_id"] == job["job_id"] and sent["status"] == "completed"
    assert sent["link"] == f"https://bulkio.example.com/#/jobs/{job['job_id']}"
    assert sent["counts"]["created_count"] == job["created_count"] > 0
    assert sent["title"] == "Import of leads.csv into acme-corp"
    assert sent["text"].startswith("bulkio: Import of leads.csv into acme-corp: completed.")
    # the webhook's address is a secret: in no record, no log
    for path in [*served.data_dir.rglob("*"), served.stderr]:
        if path.is_file():
            assert b"s3cr3tXYZ" not in path.read_bytes(), path
