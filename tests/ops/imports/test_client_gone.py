"""A client deleted while an import writes to it: the API stores the leads all the same,
under a slug no client has, so the import must not end as done."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from bulkio.errors import BulkioError
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.conftest import RawApi
from tests.ops.imports.test_import import run, server_emails


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, latency_ms=(2, 5))


async def test_the_client_deleted_mid_run_fails_the_import_and_a_resume_ends_it(
        sandbox: Sandbox, api: RawApi, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email,first\n" + "".join(f"g{i}@example.net,G{i}\n" for i in range(600)))
    uuid = sandbox.state.store.db.execute(
        "SELECT id FROM clients WHERE client_id = 'acme-corp'").fetchone()[0]

    async def delete_midway() -> None:
        await sandbox.state.when("POST /api/leads", 100).wait()
        release = sandbox.state.hold("POST /api/leads")  # the import waits for the delete
        assert (await api.call("DELETE", "/api/clients", params={"id": uuid})).status == 200
        release.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(delete_midway)
        with pytest.raises(BulkioError) as stopped:
            await run(sandbox, source, tmp_path)
    stored = server_emails(sandbox)
    assert len(stored) == 600 and max(stored.values()) == 1
    assert str(stopped.value).startswith(
        "client 'acme-corp' was deleted while the import ran: 600 leads are stored under its "
        "slug, where no client shows them")
    # made again, the client (same name, same slug) shows them; --resume ends the job
    made = await api.call("POST", "/api/clients", json={"clientName": "Acme Corp"})
    assert made.status == 201 and made.body["client"]["client_id"] == "acme-corp"
    report = await run(sandbox, source, tmp_path, resume=True)
    assert report.ok and report.created == 600 and len(server_emails(sandbox)) == 600
