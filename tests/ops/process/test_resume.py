"""A real `bulkio process` killed (SIGKILL, SIGINT) with triggers in flight, then resumed:
every lead triggered exactly once on the server, every run tracked; and the command's
one-line errors and dry run."""

from __future__ import annotations

import signal
import sys
from collections import Counter
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.process.test_process import clear_filled, lead_ids, triggers
from tests.processes import environment, stop_after

pytestmark = pytest.mark.slow  # real bulkio processes, stopped and resumed

LEADS = 600


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=LEADS,
                         processing_settings=True, run_seconds=(0.1, 0.5), latency_ms=(5, 40),
                         lost_response_rate=0.02)


def command(sb: Sandbox, job: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", "process", "enrich", "--client", "acme-corp",
            "--services", "enrichment1,enrichment2", "--base-url", sb.base_url, "--rate", "20000",
            "--settle", "1", "--wait", "--job-dir", str(job), "--quiet", *extra]


async def finish(sb: Sandbox, job: Path, tmp_path: Path, *extra: str) -> None:
    with anyio.fail_after(120):
        done = await anyio.run_process(command(sb, job, "--resume", *extra),
                                       env=environment(sb, tmp_path), check=False)
    if done.returncode != 0:  # what the job says of itself, for whoever reads the failure
        report, log = job / "report.json", job / "log.txt"
        pytest.fail("\n".join((done.stderr.decode(), *(p.read_text()[-4000:] for p in (
            report, log) if p.exists()))))


def assert_once_and_tracked(sb: Sandbox, job: Path) -> None:
    ids = lead_ids(sb)
    assert triggers(sb, "enrich") == Counter(dict.fromkeys(ids, 1))
    report = orjson.loads((job / "report.json").read_bytes())
    assert (report["leads"], report["triggered"], report["unknown"]) == (LEADS, LEADS, 0)
    assert report["runs"] == report["completed"] == 2 * LEADS == len(sb.state.processing.runs)
    lines = [orjson.loads(x) for x in (job / "results.ndjson").read_bytes().splitlines()]
    assert sorted(r["leadId"] for r in lines) == sorted(ids)


@pytest.mark.parametrize(("sig", "names", "skew"), [
    (signal.SIGKILL, "kind", 0.0), (signal.SIGINT, "kind", 0.0),
    (signal.SIGKILL, "opaque", -90.0)],
    ids=["SIGKILL", "SIGINT", "SIGKILL, opaque task names, clock 90 s behind, --overwrite"])
async def test_killed_mid_triggers_then_resumed_triggers_nothing_twice(
        sandbox: Sandbox, tmp_path: Path, sig: int, names: str, skew: float) -> None:
    clear_filled(sandbox, "enrichment1", "enrichment2")
    sandbox.config.task_names, sandbox.config.clock_skew_s = names, skew
    job = tmp_path / "job"
    overwrite = ("--overwrite",) if names == "opaque" else ()  # a second trigger: a second run
    code, err = await stop_after(sandbox, command(sandbox, job, *overwrite),
                                 environment(sandbox, tmp_path),
                                 event="trigger:enrich", count=200, sig=sig)
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 130 and b"--resume" in err and b"Traceback" not in err
    assert 200 <= triggers(sandbox, "enrich").total() < LEADS
    await finish(sandbox, job, tmp_path, *overwrite)
    assert_once_and_tracked(sandbox, job)


async def test_status_of_a_killed_job_tracks_its_runs_and_resume_ends_it(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """Killed mid-way: `process status --wait` tracks the runs started so far (and says
    which leads were not sent: exit 1); --resume then triggers the rest, each once."""
    clear_filled(sandbox, "enrichment1", "enrichment2")
    job = tmp_path / "job"
    await stop_after(sandbox, command(sandbox, job), environment(sandbox, tmp_path),
                     event="trigger:enrich", count=300, sig=signal.SIGKILL)
    argv = [sys.executable, "-m", "bulkio", "process", "status", str(job), "--wait",
            "--base-url", sandbox.base_url, "--rate", "unlimited", "--quiet"]
    with anyio.fail_after(60):
        done = await anyio.run_process(argv, env=environment(sandbox, tmp_path), check=False)
    assert done.returncode == 1, done.stderr.decode()
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["not_sent"] > 0 and report["running"] == 0
    assert report["completed"] == report["runs"] == 2 * report["triggered"] > 0
    await finish(sandbox, job, tmp_path)
    assert_once_and_tracked(sandbox, job)


async def test_nothing_to_trigger_is_one_line_and_exit_2(sandbox: Sandbox,
                                                         tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "bulkio", "process", "copyright", "--client", "acme-corp",
            "--processes", "7,8", "--base-url", sandbox.base_url, "--job-dir",
            str(tmp_path / "job")]
    with anyio.fail_after(60):
        done = await anyio.run_process(argv, env=environment(sandbox, tmp_path), check=False)
    assert done.returncode == 2
    lines = done.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "every lead would be skipped" in lines[0] and "7, 8" in lines[0]
    assert "trigger:copyright" not in sandbox.state.counts


async def test_dry_run_says_what_would_happen_and_triggers_nothing(sandbox: Sandbox,
                                                                   tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "bulkio", "process", "enrich", "--client", "acme-corp",
            "--services", "enrichment1,enrichment9", "--base-url", sandbox.base_url,
            "--tier", "premium", "--wait", "--dry-run"]
    with anyio.fail_after(60):
        done = await anyio.run_process(argv, env=environment(sandbox, tmp_path), check=False)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "skipped for every lead (not configured): enrichment9" in " ".join(out.split())
    assert f"to trigger: {LEADS}" in out and "Dry run" in out and "1,000 a minute" in out
    assert "trigger:enrich" not in sandbox.state.counts
