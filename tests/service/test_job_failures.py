"""Service jobs that fail: every row counted, the reason logged, and resumed exactly once."""

from __future__ import annotations

import aiohttp
import anyio

from bulkio.sandbox import Sandbox
from tests.ops.imports.test_import import server_emails
from tests.service.calls import call, preview, start_body, until_ended
from tests.service.conftest import Served


async def test_repro(sandbox: Sandbox, service: Served, http: aiohttp.ClientSession) -> None:
    _, body = await preview(http, service)
    _, started = await call(http, service, "POST", "/leads/import/start",
                            json=start_body(body["file_id"]))
    with anyio.fail_after(60):
        await sandbox.state.when("POST /api/leads", 38).wait()
    sandbox.config.error_rate = 1.0
    job = await until_ended(http, service, started["job_id"])
    print(job)
    print(service.stderr.read_text())
    print(len(server_emails(sandbox)))
