"""A real `bulkio import` process, killed (SIGKILL) or interrupted (SIGINT) mid-run, then
resumed: every row ends on the server exactly once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.conftest import MakeSandbox
from tests.ops.imports.test_import import server_emails
from tests.processes import environment, stop_after

pytestmark = pytest.mark.slow  # real bulkio processes, stopped and resumed

ROWS = 1500
KILL_AFTER = 300  # POSTs the server has seen


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, latency_ms=(2, 10))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    path.write_text("Email,Company\r\n" + "".join(f"r{i}@x.com,Co {i}\r\n" for i in range(ROWS)))
    return path


def command(sb: Sandbox, source: Path, job: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", "import", str(source), "--client", "acme-corp",
            "--base-url", sb.base_url, "--rate", "unlimited", "--job-dir", str(job),
            "--settle", "0", "--quiet", *extra]


async def start_and_stop(sb: Sandbox, source: Path, tmp_path: Path, sig: int, *extra: str
                         ) -> subprocess.CompletedProcess[bytes]:
    """Start an import, deliver `sig` once the server has seen KILL_AFTER POSTs."""
    code, err = await stop_after(sb, command(sb, source, tmp_path / "job", *extra),
                                 environment(sb, tmp_path), event="POST /api/leads",
                                 count=KILL_AFTER, sig=sig)
    return subprocess.CompletedProcess([], code, b"", err)


def open_rows(job: Path) -> int:
    """Rows the journal has admitted whose outcome it does not know yet."""
    with sqlite3.connect(job / "journal.db") as db:
        return int(db.execute("SELECT count(*) FROM rows WHERE state = 'attempted'").fetchone()[0])


async def resume(sb: Sandbox, source: Path, tmp_path: Path, *extra: str
                 ) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(120):
        return await anyio.run_process(command(sb, source, tmp_path / "job", "--resume", *extra),
                                       env=environment(sb, tmp_path), check=False)


@pytest.mark.parametrize("lag_ms", [(0.0, 0.0), (300.0, 600.0)], ids=["fresh", "lagging"])
async def test_sigkill_mid_run_then_resume(sandbox: Sandbox, source: Path, tmp_path: Path,
                                           lag_ms: tuple[float, float]) -> None:
    """kill -9 with requests in flight; --resume reconciles them and finishes: exactly once,
    also when the listing lags behind writes (the rows in flight at the kill are listed only
    after the resume's first look, and their twins are found and removed)."""
    sandbox.config.listing_lag_ms = lag_ms
    settle = ("--settle", "0.4") if lag_ms[1] else ()
    killed = await start_and_stop(sandbox, source, tmp_path, signal.SIGKILL, *settle)
    assert killed.returncode == -signal.SIGKILL
    counts = sandbox.state.counts
    before = len(server_emails(sandbox)) + counts["store_late_scheduled"] - counts["stored_late"]
    assert 0 < before < ROWS  # cut off mid-run (counting the leads not listed yet)
    # Backpressure: the reader was never more than a small window ahead of the senders.
    assert open_rows(tmp_path / "job") <= 512
    done = await resume(sandbox, source, tmp_path, *settle)
    assert done.returncode == 0, done.stderr.decode()
    with anyio.fail_after(30):  # every lead listed late has landed
        await sandbox.state.when("stored_late", sandbox.state.counts["store_late_scheduled"]).wait()
    on_server = server_emails(sandbox)
    assert len(on_server) == ROWS and set(on_server.values()) == {1}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_ctrl_c_stops_gracefully_and_says_how_to_resume(sandbox: Sandbox, source: Path,
                                                              tmp_path: Path, sig: int) -> None:
    """SIGINT, or SIGTERM (what timeout, systemd, docker and CI send): exit 130, the report of
    the rows done so far, and the command that resumes; resuming finishes exactly once."""
    stopped = await start_and_stop(sandbox, source, tmp_path, sig)
    assert stopped.returncode == 130, stopped.stderr.decode()
    assert b"--resume" in stopped.stderr and b"interrupted" in stopped.stderr
    report = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert 0 < report["created"] < ROWS
    assert len(server_emails(sandbox)) < ROWS
    done = await resume(sandbox, source, tmp_path)
    assert done.returncode == 0, done.stderr.decode()
    on_server = server_emails(sandbox)
    assert len(on_server) == ROWS and set(on_server.values()) == {1}


def messy_rows() -> tuple[str, set[str]]:
    """1,500 rows with an unterminated quote, a stray quote or a short row every 100: the text,
    and the emails that must end on the server."""
    lines, expected = ["Email,Company,Notes\r\n"], set()
    for i in range(ROWS):
        if i % 100 == 7:
            lines.append(f'r{i}@x.com,Co {i},"never closed\r\n')  # rejected: unterminated
            continue
        expected.add(f"r{i}@x.com")
        if i % 100 == 50:
            lines.append(f'r{i}@x.com,Co {i},"said "hi" there"\r\n')  # kept as typed
        elif i % 100 == 90:
            lines.append(f"r{i}@x.com\r\n")  # short: padded
        else:
            lines.append(f"r{i}@x.com,Co {i},note {i}\r\n")
    return "".join(lines), expected


@pytest.mark.parametrize("kind", ["utf-8", "utf-16", "gzip"])
async def test_sigkill_and_resume_through_a_messy_file(sandbox: Sandbox, tmp_path: Path,
                                                       kind: str) -> None:
    """Unterminated quotes (lines read again after them), repairs and short rows survive a
    kill -9 and --resume, whether the reader seeks (UTF-8, gzip) or reads past (UTF-16): every
    row once, the report the job's whole."""
    import gzip

    text, expected = messy_rows()
    path = tmp_path / ("messy.csv.gz" if kind == "gzip" else "messy.csv")
    data = text.encode("utf-16" if kind == "utf-16" else "utf-8")
    path.write_bytes(gzip.compress(data) if kind == "gzip" else data)
    killed = await start_and_stop(sandbox, path, tmp_path, signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL and 0 < len(server_emails(sandbox)) < len(expected)
    done = await resume(sandbox, path, tmp_path)
    assert done.returncode == 1, done.stderr.decode()  # the unterminated rows are rejected
    on_server = server_emails(sandbox)
    assert set(on_server) == expected and set(on_server.values()) == {1}
    report = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert report["rows_read"] == ROWS and report["rejected"] == ROWS // 100
    assert report["created"] == len(expected) and report["repaired_rows"] == ROWS // 100


async def test_a_resumed_run_sends_new_rows_while_lost_answers_settle(
        make_sandbox: MakeSandbox, tmp_path: Path, source: Path) -> None:
    """Lost answers before a kill -9, resumed with --settle 3: the new rows go out at once (the
    resumed run sent nothing for 30 s before), the lost ones are looked up in the background
    once their settle time has passed; every row on the server once."""
    async with make_sandbox(clients=1, latency_ms=(2, 10), lost_response_rate=0.2,
                            chaos_seed=7) as sb:
        killed = await start_and_stop(sb, source, tmp_path, signal.SIGKILL)
        assert killed.returncode == -signal.SIGKILL
        assert open_rows(tmp_path / "job") > 0  # rows whose outcome the crash left unknown
        sb.config.lost_response_rate = 0.0
        listings = sb.state.counts["GET /api/enrich-leads/list"]
        first_new_post = sb.state.when("POST /api/leads", sb.state.counts["POST /api/leads"] + 1)
        argv = command(sb, source, tmp_path / "job", "--resume")
        argv[argv.index("--settle") + 1] = "3"
        async with await anyio.open_process(argv, env=environment(sb, tmp_path)) as proc:
            with anyio.fail_after(60):
                await first_new_post.wait()
            assert sb.state.counts["GET /api/enrich-leads/list"] == listings  # nothing waited
            with anyio.fail_after(120):
                await proc.wait()
        assert proc.returncode == 0
        on_server = server_emails(sb)
        assert len(on_server) == ROWS and set(on_server.values()) == {1}
