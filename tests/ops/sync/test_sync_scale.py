"""A sync past HubSpot search's 10,000-result wall: 25,000 contacts changed between two runs,
12,000 of them stamped with one moment by a bulk edit; none missed, each lead written once."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.sync.test_sync import assert_in_step, sync

pytestmark = pytest.mark.slow  # a portal of 25,000 contacts

CONTACTS = 25_000


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, hubspot_contacts=CONTACTS,
                         hubspot_rate=None, hubspot_search_rate=None, latency_ms=(0, 0))


async def test_25000_changes_past_the_wall_and_a_bulk_edit(sandbox: Sandbox,
                                                           tmp_path: Path) -> None:
    await sync(sandbox, tmp_path)
    store, moment = sandbox.hubspot.store, int(time.time() * 1000)
    rows = store.db.execute("SELECT id, props FROM hs_contacts ORDER BY id").fetchall()
    store.db.executemany(
        "UPDATE hs_contacts SET props = ?, modified_ms = ?, indexed_ms = ? WHERE id = ?",
        [(orjson.dumps({**orjson.loads(props), "jobtitle": f"Title {cid}"}).decode(),
          moment if cid <= 12_000 else moment + cid, 0, cid) for cid, props in rows])
    puts = sandbox.state.counts["PUT /api/leads"]
    report = await sync(sandbox, tmp_path)
    assert report.seen == CONTACTS  # each once: past 10,000, and 12,000 on one moment
    assert report.updated == report.seen - report.rejected
    assert sandbox.state.counts["PUT /api/leads"] - puts == -(-report.updated // 50)
    searches = sandbox.state.counts["POST /crm/v3/objects/contacts/search"]
    assert searches == CONTACTS // 200 + 1  # full pages, then the empty one that ends it
    assert_in_step(sandbox)
