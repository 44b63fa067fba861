"""A real `bulkio purge` process killed with SIGKILL mid-way, then resumed: the client ends
empty, its neighbour untouched; and the confirmation rules of the command."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import anyio
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.purge.test_purge import LEADS, leads_of, other_slug
from tests.processes import environment, stop_after

pytestmark = pytest.mark.slow  # real bulkio processes, stopped and resumed

KILL_AFTER = 30  # batch deletes the server has done


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=2, leads=2 * LEADS,
                         latency_ms=(5, 15))


def command(sb: Sandbox, job: Path, *extra: str, rate: str = "unlimited") -> list[str]:
    return [sys.executable, "-m", "bulkio", "purge", "--client", "acme-corp", "--base-url",
            sb.base_url, "--rate", rate, "--job-dir", str(job), "--quiet", *extra]


async def stop_mid_way(sb: Sandbox, job: Path, tmp_path: Path, sig: int,
                       *extra: str) -> tuple[int, bytes]:
    """Start a purge; deliver `sig` once the server has done KILL_AFTER batch deletes."""
    code, err = await stop_after(sb, command(sb, job, "--yes", *extra), environment(sb, tmp_path),
                                 event="batch_delete_done", count=KILL_AFTER, sig=sig)
    assert 0 < leads_of(sb, "acme-corp") < LEADS
    return code, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_ctrl_c_stops_cleanly_and_says_how_to_resume(sandbox: Sandbox, tmp_path: Path,
                                                           sig: int) -> None:
    """Ctrl-C or SIGTERM: exit 130, the report written, the resume command; resuming empties."""
    code, err = await stop_mid_way(sandbox, tmp_path / "job", tmp_path, sig)
    assert code == 130 and b"--resume" in err and b"Traceback" not in err
    assert (tmp_path / "job" / "report.json").exists()
    with anyio.fail_after(120):
        done = await anyio.run_process(command(sandbox, tmp_path / "job", "--yes", "--resume"),
                                       env=environment(sandbox, tmp_path), check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert leads_of(sandbox, "acme-corp") == 0 and leads_of(sandbox, other_slug(sandbox)) == LEADS


async def test_sigkill_then_resume_empties_the_client(sandbox: Sandbox, tmp_path: Path) -> None:
    """kill -9 mid-purge, then --resume (which runs under the job's own --delete-client):
    the client is emptied and its record deleted, the other client untouched."""
    job = tmp_path / "job"
    code, _ = await stop_mid_way(sandbox, job, tmp_path, signal.SIGKILL, "--delete-client")
    assert code == -signal.SIGKILL
    with anyio.fail_after(120):
        done = await anyio.run_process(command(sandbox, job, "--yes", "--resume"),
                                       env=environment(sandbox, tmp_path), check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert leads_of(sandbox, "acme-corp") == 0
    assert leads_of(sandbox, other_slug(sandbox)) == LEADS
    assert sandbox.state.store.find_client(sandbox.company_id, "acme-corp") is None


async def test_no_terminal_and_no_yes_refuses_before_listing(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    with anyio.fail_after(60):
        done = await anyio.run_process(command(sandbox, tmp_path / "job"),
                                       env=environment(sandbox, tmp_path), check=False,
                                       input=b"")  # no terminal
    assert done.returncode == 2
    assert b"--yes" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert leads_of(sandbox, "acme-corp") == LEADS
    assert "GET /api/enrich-leads/list" not in sandbox.state.counts


async def test_dry_run_prints_the_cost_and_deletes_nothing(sandbox: Sandbox,
                                                           tmp_path: Path) -> None:
    with anyio.fail_after(60):
        done = await anyio.run_process(
            command(sandbox, tmp_path / "job", "--dry-run", rate="100"),
            env=environment(sandbox, tmp_path), check=False)
    out = " ".join(done.stdout.decode().split())  # rich wraps lines off a terminal
    assert done.returncode == 0, done.stderr.decode()
    assert "5,000 leads" in out and "102 requests" in out and "min" in out
    assert leads_of(sandbox, "acme-corp") == LEADS
