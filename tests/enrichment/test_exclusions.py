"""`bulkio exclusions upload` against the legacy twin: every row excluded or rejected with its
reason, lost answers sent again harmlessly, the key in no output."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.enrichment.test_campaign_status import env_for

ROWS = 450  # three requests
pytestmark = pytest.mark.slow  # real processes, and retries that wait


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, legacy_campaigns=True, legacy_rate=None,
                         lost_response_rate=0.3, chaos_only=("/api/v1/exclusion/upload/",),
                         chaos_seed=7)


def excluded(sb: Sandbox) -> set[str]:
    return {k for (k,) in sb.state.store.db.execute("SELECT key FROM lg_exclusions")}


async def test_every_row_excluded_or_rejected_through_lost_answers(
        sandbox: Sandbox, tmp_path: Path) -> None:
    source = tmp_path / "do-not-enrich.csv"
    lines = ["Work Email,LinkedIn,Company,Website"]
    for i in range(ROWS):
        if i % 3 == 0:
            lines.append(f"p{i}@rival.com,,Rival,")  # a contact
        elif i % 3 == 1:
            lines.append(f",,Partner {i},partner{i}.com")  # a company
        else:
            lines.append(f",,Nameless {i},")  # nothing to exclude it by
    source.write_text("\n".join(lines) + "\n")
    report = tmp_path / "report.json"
    done = await anyio.run_process(
        [sys.executable, "-m", "bulkio", "exclusions", "upload", str(source), "--report",
         str(report), "--rejects", str(tmp_path / "rejects.csv")],
        env=env_for(sandbox), check=False, cwd=tmp_path)
    said = done.stdout.decode()
    assert done.returncode == 1, done.stderr.decode()  # rows rejected: problems to look at
    assert "excluded 300 of 450 rows (150 contacts, 150 companies); rejected 150" in said
    counts = orjson.loads(report.read_bytes())
    assert (counts["rows_read"], counts["sent"], counts["rejected"], counts["failed"]) == (
        450, 300, 150, 0)
    lost = sum(v for k, v in sandbox.state.counts.items() if k.startswith("lost:"))
    assert lost > 0 and counts["retries"] >= lost  # each lost answer's batch sent again
    keys = excluded(sandbox)
    assert {f"contact_email:p{i}@rival.com" for i in range(0, ROWS, 3)} <= keys
    assert {f"org_website:partner{i}.com" for i in range(1, ROWS, 3)} <= keys
    assert len(keys) == 300  # the company of a contact row excludes no company
    rejects = (tmp_path / "rejects.csv").read_text().splitlines()
    assert len(rejects) == 151 and rejects[1].startswith('3,"no contact email or LinkedIn URL')
    for output in (done.stdout, done.stderr, report.read_bytes(),
                   (tmp_path / "rejects.csv").read_bytes()):
        assert sandbox.legacy_api_key.encode() not in output
