"""Imports against a listing that lags behind writes, and leads written by someone else.

The API documents no freshness for its listings, so bulkio must not assume one: a lead whose
answer was lost may be listed only after the row was sent again. Every row sent more than
once is searched for its twin until the job ends, and a lead is taken for a row only when it
carries the row's own values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.imports.test_import import assert_books_balance, run, server_emails

ROWS = 300


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, chaos_seed=7, latency_ms=(1, 5))


def leads_csv(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("First Name,Last Name,Email,Company\r\n" + "".join(
        f"Ada{i},Lovelace,lead{i}@x.com,Engines {i}\r\n" for i in range(ROWS)))
    return path


async def every_late_store_landed(sb: Sandbox) -> None:
    """Wait (on the sandbox's own count, no sleep) until every lead listed late is listed."""
    with anyio.fail_after(30):
        await sb.state.when("stored_late", sb.state.counts["store_late_scheduled"]).wait()


@pytest.mark.parametrize("lag_ms", [(0.0, 0.0), (500.0, 750.0)], ids=["fresh", "lagging"])
async def test_lost_answers_under_a_lagging_listing_leave_no_twin(
        sandbox: Sandbox, tmp_path: Path, lag_ms: tuple[float, float]) -> None:
    """10% of answers lost after the lead was made; with the listing 0.5-0.75 s behind
    writes and --settle 0.4, rows are sent again before their first lead is listed: every
    twin is found (the row's email and values) and deleted, once every late lead has landed
    each row is on the server once, and the report says how late a lead was listed."""
    sandbox.config.lost_response_rate = 0.1
    sandbox.config.listing_lag_ms = lag_ms
    report = await run(sandbox, leads_csv(tmp_path), tmp_path, settle_s=0.4)
    await every_late_store_landed(sandbox)
    on_server = server_emails(sandbox)
    assert len(on_server) == ROWS and set(on_server.values()) == {1}, \
        [e for e, n in on_server.items() if n > 1][:5]
    assert (report.created, report.failed) == (ROWS, 0)
    assert_books_balance(report)
    lost = sum(sandbox.state.counts[f"lost:{k}"] for k in ("502", "504", "drop"))
    assert lost > 0 and report.foreign_leads == 0
    if lag_ms[1] == 0:
        assert report.duplicates_removed == 0 and report.listed_late_s == 0
    else:
        assert report.duplicates_removed > 0
        assert lag_ms[0] / 1000 <= report.listed_late_s  # an upper bound of the true lag


async def test_a_lead_with_the_email_but_other_names_is_left_alone(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """Every create's answer is lost; as the first create arrives, someone else writes a lead with
    each row's email and other names. Each row is matched with its own lead, never with
    theirs; theirs are neither adopted nor deleted, and the report counts them."""
    sandbox.config.lost_response_rate = 1.0
    sandbox.config.chaos_only = ("POST /api/leads",)
    sandbox.config.latency_ms = (50, 60)  # theirs are written while the first create waits
    store, user = sandbox.state.store, sandbox.state.user
    rows = 20
    path = tmp_path / "in.csv"
    path.write_text("First Name,Last Name,Email,Company\r\n" + "".join(
        f"Ada{i},Lovelace,lead{i}@x.com,Engines\r\n" for i in range(rows)))

    async def someone_else_writes() -> None:
        await sandbox.state.when("POST /api/leads", 1).wait()
        for i in range(rows):
            store.insert_lead(user.company_id, user.id, {
                "client_id": "acme-corp", "firstName": "Grace", "lastName": "Hopper",
                "email": f"lead{i}@x.com"})

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(someone_else_writes)
        report = await run(sandbox, path, tmp_path, settle_s=0.2)
    theirs = {lead_id for (lead_id,) in store.db.execute(
        "SELECT id FROM leads WHERE json_extract(data, '$.firstName') = 'Grace'")}
    assert len(theirs) == rows and sandbox.state.counts["DELETE /api/leads"] == 0
    assert (report.created, report.failed, report.foreign_leads) == (rows, 0, rows)
    assert server_emails(sandbox) == {f"lead{i}@x.com": 2 for i in range(rows)}
    with sqlite3.connect(Path(report.job_dir) / "journal.db") as journal:
        adopted = {lead_id for (lead_id,) in journal.execute("SELECT lead_id FROM rows")}
    assert len(adopted) == rows and not adopted & theirs
