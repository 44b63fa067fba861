"""An export through everything the sandbox can throw: each record lands exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.exports.test_export import assert_exactly_once, read_ndjson, run, settings_for, stored

QUOTA = 1200  # a minute: tight enough that pacing matters, quick enough for a test


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=QUOTA, clients=4, leads=6000, token_ttl=2,
                         latency_ms=(1, 30), error_rate=0.05, lost_response_rate=0.05,
                         drop_rate=0.03, page_repeat=0.2, chaos_seed=20261122)


async def test_every_record_exactly_once_through_chaos(sandbox: Sandbox, tmp_path: Path) -> None:
    """Short-lived tokens, transient errors, lost answers, dropped connections, repeated
    records and a tight quota: the file holds every record once and the manifest agrees."""
    out = tmp_path / "chaos.ndjson.gz"
    report = await run(sandbox, out, tmp_path, page_size=250,
                       settings=settings_for(sandbox, rate_per_minute=QUOTA))
    counts = sandbox.state.counts
    assert counts["lost:502"] + counts["lost:504"] + counts["lost:drop"] > 0
    assert counts["fault:500"] + counts["fault:503"] + counts["fault:drop"] > 0
    assert report.retries > 0 and report.ok
    assert_exactly_once(read_ndjson(out), stored(sandbox))
    assert report.records == 6000
    assert 0 < report.duplicates_dropped <= counts["page_repeated"]  # some came in lost answers
    assert counts["429"] == 0 and report.rate_limited == 0  # paced, never refused
