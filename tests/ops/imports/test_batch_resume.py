"""Real `bulkio import --strategy batch` processes killed (SIGKILL) or interrupted (SIGINT)
with batches in flight, awaiting verification, or stored late, then resumed: every row ends
on the server exactly once, checked on the server's own data."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.imports.test_import import server_emails
from tests.ops.imports.test_resume import ROWS, command, resume
from tests.processes import environment, stop_after

pytestmark = pytest.mark.slow  # real bulkio processes, stopped and resumed

BATCHES_BEFORE_THE_STOP = 12  # of 30


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, latency_ms=(5, 40),
                         batch_persist=0.5, lost_response_rate=0.05, chaos_seed=7)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "big.csv"
    path.write_text("Email,Company\r\n" + "".join(f"r{i}@x.com,Co {i}\r\n" for i in range(ROWS)))
    return path


def batched_rows(job: Path) -> int:
    with sqlite3.connect(job / "journal.db") as db:
        return int(db.execute("SELECT count(*) FROM rows WHERE batched > 0").fetchone()[0])


async def stop_mid_batches(sb: Sandbox, source: Path, tmp_path: Path, sig: int,
                           *extra: str) -> int:
    argv = command(sb, source, tmp_path / "job", "--strategy", "batch", *extra)
    code, _ = await stop_after(sb, argv, environment(sb, tmp_path), event="POST /api/leads",
                               count=BATCHES_BEFORE_THE_STOP, sig=sig)
    return code


async def resume_batches(sb: Sandbox, source: Path, tmp_path: Path, *extra: str) -> dict[str, int]:
    done = await resume(sb, source, tmp_path, "--strategy", "batch", *extra)
    assert done.returncode == 0, done.stderr.decode()
    on_server = server_emails(sb)
    assert len(on_server) == ROWS and set(on_server.values()) == {1}
    report: dict[str, int] = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert (report["created"], report["failed"]) == (ROWS, 0)
    return report


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
async def test_stopped_with_batches_in_flight_then_resumed(sandbox: Sandbox, source: Path,
                                                           tmp_path: Path, sig: int) -> None:
    """Half the batches' leads stored, 5% of answers lost: stopped with batches out and rows
    awaiting their listing; --resume settles them from the listing and sends what is missing,
    once."""
    code = await stop_mid_batches(sandbox, source, tmp_path, sig)
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    assert batched_rows(tmp_path / "job") > 0 and len(server_emails(sandbox)) < ROWS
    report = await resume_batches(sandbox, source, tmp_path)
    assert report["batch_requests"] >= BATCHES_BEFORE_THE_STOP
    assert report["batch_leads_persisted"] > 0


async def test_killed_while_batches_are_stored_late(sandbox: Sandbox, source: Path,
                                                    tmp_path: Path) -> None:
    """Every batch stored, but 1.05-1.3 s after its answer (the settle time is 1 s); kill -9
    while they land; the resumed run finds the rows its predecessor sent (they are in the
    listing by then, or sent again and their twins removed): one lead each. (A batch stored
    more than twice the settle time late may outlive the run: the README's limit; the
    margin here, 0.7 s, keeps a loaded machine's timers inside it: with 0.3 s it once did
    not, in a run beside a second test suite.)"""
    sandbox.config.batch_persist, sandbox.config.lost_response_rate = 1.0, 0.0
    sandbox.config.batch_persist_delay_ms = (1050.0, 1300.0)
    code = await stop_mid_batches(sandbox, source, tmp_path, signal.SIGKILL, "--settle", "1")
    assert code == -signal.SIGKILL
    await resume_batches(sandbox, source, tmp_path, "--settle", "1")
