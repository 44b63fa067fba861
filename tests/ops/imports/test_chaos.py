"""Imports through everything the sandbox can throw: each valid row lands exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.imports.test_import import run, server_emails, settings_for

ROWS = 400
QUOTA = 6000  # a minute: the client runs at it (pacing matters), quick enough for a test


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=QUOTA, clients=1, token_ttl=1,
                         latency_ms=(1, 20), error_rate=0.05, lost_response_rate=0.05,
                         drop_rate=0.02, chaos_seed=20261122)


async def test_every_row_exactly_once_through_chaos(sandbox: Sandbox, tmp_path: Path) -> None:
    """Short-lived tokens, 5% transient errors, 5% lost answers, 2% dropped connections and a
    tight quota: every row is on the server once, the books balance, no 429 storm."""
    source = tmp_path / "in.csv"
    source.write_text("First Name,Email\r\n" + "".join(f"N{i},lead{i}@x.com\r\n" for i in range(ROWS)))
    report = await run(sandbox, source, tmp_path, settings=settings_for(sandbox, rate_per_minute=QUOTA))
    counts = sandbox.state.counts
    assert counts["lost:502"] + counts["lost:504"] + counts["lost:drop"] > 0
    assert counts["fault:500"] + counts["fault:503"] + counts["fault:drop"] > 0
    assert counts["refresh"] + counts["login"] > 2  # tokens expired during the run
    on_server = server_emails(sandbox)
    assert len(on_server) == ROWS and set(on_server.values()) == {1}
    assert (report.created, report.failed, report.rejected) == (ROWS, 0, 0)
    assert report.retries > 0
    assert counts["429"] == 0 and report.rate_limited == 0  # paced, never refused
