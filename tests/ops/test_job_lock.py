"""One process per job: a second `bulkio` on a job another process is running is refused in
one line that names the running process (exit 2, no `--resume` hint), and the first one ends
with every row once. The lock is the kernel's: a killed process leaves none behind."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.conftest import MakeSandbox
from tests.ops.imports.test_import import server_emails
from tests.processes import environment, second_while_first_runs, stop_after

pytestmark = pytest.mark.slow  # real bulkio processes

ROWS = 2000


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=3000,
                         latency_ms=(5, 10))


def bulkio(sb: Sandbox, *argv: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", *argv, "--base-url", sb.base_url, "--rate",
            "unlimited", "--quiet"]


def assert_refused(code: int, err: bytes, pid: int) -> None:
    """Refused in one line naming the running process: by its job's lock, or (a purge) by the
    client's."""
    text = err.decode()
    assert code == 2 and len(text.strip().splitlines()) == 1, text
    assert f"in process {pid}" in text and "now" in text and "--resume" not in text


@pytest.mark.parametrize("second_has_resume", [True, False], ids=["with --resume", "plain rerun"])
async def test_a_second_import_on_a_running_job_is_refused(sandbox: Sandbox, tmp_path: Path,
                                                           second_has_resume: bool) -> None:
    """The issue's sequence: an import running, the same command with --resume (or without)
    in another process. Refused; the first ends with 2,000 leads for 2,000 emails."""
    source = tmp_path / "m2k.csv"
    source.write_text("email,first,last\n" + "".join(f"m{i}@example.net,F,L{i}\n" for i in range(ROWS)))
    first = bulkio(sandbox, "import", str(source), "--create-client", "probe-m", "--settle", "0",
                   "--job-dir", str(tmp_path / "job"))
    second = [*first, *(["--resume"] if second_has_resume else [])]
    code, pid, other, err = await second_while_first_runs(
        sandbox, first, second, environment(sandbox, tmp_path), event="POST /api/leads", count=200,
        hold=True)
    assert_refused(other, err, pid)
    assert code == 0
    on_server = server_emails(sandbox, "probe-m")
    assert len(on_server) == ROWS and set(on_server.values()) == {1}


async def test_a_second_purge_on_a_running_job_is_refused(make_sandbox: MakeSandbox,
                                                          tmp_path: Path) -> None:
    """Two purges of one client at once would double the deletes and both report them."""
    async with make_sandbox(clients=1, leads=1000, latency_ms=(200, 300)) as sb:
        first = bulkio(sb, "purge", "--client", "acme-corp", "--yes", "--concurrency", "1",
                       "--job-dir", str(tmp_path / "job"))
        code, pid, other, err = await second_while_first_runs(
            sb, first, first, environment(sb, tmp_path), event="batch_delete_done", count=2)
        assert_refused(other, err, pid)
        assert code == 0


async def test_a_second_export_on_a_running_job_is_refused(make_sandbox: MakeSandbox,
                                                           tmp_path: Path) -> None:
    """Two exports writing one file at once would interleave it."""
    async with make_sandbox(clients=1, leads=1000, latency_ms=(200, 300)) as sb:
        out = tmp_path / "leads.ndjson"
        first = bulkio(sb, "export", "--out", str(out), "--page-size", "100", "--job-dir",
                       str(tmp_path / "job"))
        code, pid, other, err = await second_while_first_runs(
            sb, first, [*first, "--resume"], environment(sb, tmp_path),
            event="GET /api/enrich-leads/list", count=3)
        assert_refused(other, err, pid)
        assert code == 0 and len(out.read_bytes().splitlines()) == 1000


async def test_a_killed_process_leaves_no_lock(sandbox: Sandbox, tmp_path: Path) -> None:
    """kill -9 while the lock is held: the next run takes it (the kernel released it)."""
    job = tmp_path / "job"
    argv = bulkio(sandbox, "purge", "--client", "acme-corp", "--yes", "--job-dir", str(job))
    code, _ = await stop_after(sandbox, argv, environment(sandbox, tmp_path),
                               event="batch_delete_done", count=5, sig=signal.SIGKILL)
    assert code == -signal.SIGKILL and "process" in (job / "lock").read_text()
    import anyio

    done = await anyio.run_process([*argv, "--resume"], env=environment(sandbox, tmp_path), check=False)
    assert done.returncode == 0, done.stderr.decode()


async def test_a_purge_and_an_import_of_one_client_never_overlap(make_sandbox: MakeSandbox,
                                                                 tmp_path: Path) -> None:
    """The issue's case: `purge --yes` while an import writes to the same client. Refused in
    one line naming the import (the purge would delete what the import writes, and the import
    send again what it deleted); the import ends with every row once. And the other way: an
    import while a purge runs is refused the same way."""
    async with make_sandbox(clients=1, leads=1000, latency_ms=(200, 300)) as sb:
        source = tmp_path / "in.csv"
        source.write_text("email\n" + "".join(f"p{i}@example.net\n" for i in range(600)))
        env = environment(sb, tmp_path)
        importing = bulkio(sb, "import", str(source), "--client", "acme-corp", "--settle", "0",
                           "--job-dir", str(tmp_path / "import-job"))
        purging = bulkio(sb, "purge", "--client", "acme-corp", "--yes", "--job-dir",
                         str(tmp_path / "purge-job"))
        code, pid, other, err = await second_while_first_runs(
            sb, importing, purging, env, event="POST /api/leads", count=50)
        text = err.decode()
        assert other == 2 and len(text.strip().splitlines()) == 1, text
        assert "the import of" in text and f"in process {pid}" in text and "acme-corp" in text
        assert code == 0 and sb.state.counts["DELETE /api/leads"] == 0
        emails = server_emails(sb, "acme-corp")
        assert all(emails[f"p{i}@example.net"] == 1 for i in range(600))
        slow_purge = bulkio(sb, "purge", "--client", "acme-corp", "--yes", "--concurrency", "1",
                            "--job-dir", str(tmp_path / "purge-job-2"))
        code, pid, other, err = await second_while_first_runs(
            sb, slow_purge, importing, env, event="batch_delete_done", count=2)
        assert other == 2 and "the purge of acme-corp" in err.decode()
        assert code == 0 and not server_emails(sb, "acme-corp")
