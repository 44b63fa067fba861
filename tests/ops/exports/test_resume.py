"""A real `bulkio export` process, killed (SIGKILL) or interrupted (SIGINT) mid-run, then
resumed: every record in the file exactly once, and no file that looks complete before then.
Also the flat-memory smoke test, measured from outside the process."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.exports.test_export import read_ndjson, stored
from tests.processes import environment, stop_after

pytestmark = pytest.mark.slow  # real bulkio processes, stopped and resumed

LEADS = 30_000
KILL_AFTER = 30  # bulk list page requests the server has received (of 64)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=4, leads=LEADS,
                         latency_ms=(5, 20))


def command(sb: Sandbox, out: Path, job: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", "export", "--out", str(out), "--base-url",
            sb.base_url, "--rate", "unlimited", "--job-dir", str(job), "--page-size", "500",
            "--quiet", *extra]


async def start_and_stop(sb: Sandbox, out: Path, tmp_path: Path, sig: int) -> tuple[int, bytes]:
    return await stop_after(sb, command(sb, out, tmp_path / "job"), environment(sb, tmp_path),
                            event="GET /api/enrich-leads/list", count=KILL_AFTER, sig=sig)


async def resume(sb: Sandbox, out: Path, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(120):
        return await anyio.run_process(command(sb, out, tmp_path / "job", "--resume"),
                                       env=environment(sb, tmp_path), check=False)


def assert_complete(sb: Sandbox, out: Path) -> None:
    records = read_ndjson(out)
    ids = Counter(r["id"] for r in records)
    assert set(ids.values()) == {1} and set(ids) == set(stored(sb))
    manifest = orjson.loads(out.with_name(out.name + ".manifest.json").read_bytes())
    assert manifest["records"] == LEADS
    # hashed as written, across the two runs (the resumed one re-reads the first's part)
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()


@pytest.mark.parametrize("gz", [False, True])
async def test_sigkill_then_resume_writes_every_record_once(sandbox: Sandbox, tmp_path: Path,
                                                            gz: bool) -> None:
    out = tmp_path / ("leads.ndjson.gz" if gz else "leads.ndjson")
    code, _ = await start_and_stop(sandbox, out, tmp_path, signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert not out.exists(), "a killed export left a file that looks complete"
    part = out.with_name(out.name + ".part")
    assert part.exists() and part.stat().st_size > 0
    done = await resume(sandbox, out, tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert_complete(sandbox, out)
    assert not part.exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_ctrl_c_stops_cleanly_and_says_how_to_resume(sandbox: Sandbox, tmp_path: Path,
                                                           sig: int) -> None:
    """Ctrl-C, or SIGTERM (what timeout, systemd and docker send): exit 130, the resume
    command, and resuming completes the file."""
    out = tmp_path / "leads.ndjson"
    code, err = await start_and_stop(sandbox, out, tmp_path, sig)
    assert code == 130
    assert b"--resume" in err and b"Traceback" not in err
    assert not out.exists()
    done = await resume(sandbox, out, tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    assert_complete(sandbox, out)


def test_memory_stays_flat(tmp_path: Path) -> None:
    """Smoke test of the benchmark's flat-memory property: a 100,000-record export (20 pages
    of 5,000) peaks well under 200 MB, measured by the kernel for the child process."""
    from benchmarks.peak_rss import run_measured

    async def go() -> tuple[int, float]:
        config = SandboxConfig(quota_per_minute=None, clients=5, leads=100_000)
        from bulkio.sandbox import run_sandbox

        async with run_sandbox(config) as sb:
            cmd = [sys.executable, "-m", "bulkio", "export", "--out", str(tmp_path / "big.ndjson"),
                   "--base-url", sb.base_url, "--rate", "unlimited", "--quiet",
                   "--job-dir", str(tmp_path / "job")]
            env = environment(sb, tmp_path)
            return await anyio.to_thread.run_sync(lambda: run_measured(cmd, env))

    code, peak_mb = anyio.run(go)
    assert code == 0
    assert peak_mb < 150, f"peak RSS {peak_mb:.0f} MB"
    assert (tmp_path / "big.ndjson").read_bytes().count(b"\n") == 100_000
