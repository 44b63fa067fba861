"""Nothing hangs: a named pipe given as the source is refused (opening it waited for a writer
for ever), a header of a million columns is refused in a second, and one SIGTERM ends the
process within seconds even when it is blocked in a read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio

from bulkio.cli.main import STOP_WITHIN_S
from bulkio.sandbox import Sandbox
from tests.processes import environment


def bulkio_argv(sb: Sandbox, *argv: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", *argv, "--base-url", sb.base_url]


async def test_a_named_pipe_is_refused_at_once(sandbox: Sandbox, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    with anyio.fail_after(30):
        done = await anyio.run_process(bulkio_argv(sandbox, "import", str(fifo), "--client",
                                                   "acme-corp", "--dry-run"),
                                       env=environment(sandbox, tmp_path), check=False)
    err = done.stderr.decode()
    assert done.returncode == 2 and "is a named pipe (FIFO), not a file" in err
    assert "bulkio import - " in err and len(err.strip().splitlines()) == 1


async def test_a_million_columns_are_refused_in_one_line(sandbox: Sandbox, tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(1_000_000)) + "\n" + "x," * 999_999 + "x\n")
    with anyio.fail_after(30):
        done = await anyio.run_process(bulkio_argv(sandbox, "import", str(wide), "--client",
                                                   "acme-corp", "--dry-run"),
                                       env=environment(sandbox, tmp_path), check=False)
    err = done.stderr.decode().strip()
    assert done.returncode == 2 and len(err.splitlines()) == 1
    assert "the header has 1,000,000 columns; bulkio reads at most 10,000" in err


async def test_one_sigterm_ends_a_process_reading_a_silent_pipe(sandbox: Sandbox,
                                                                tmp_path: Path) -> None:
    """The standard input is a pipe nobody writes to: one SIGTERM ends the import, exit 130,
    in one line."""
    async with await anyio.open_process(
            bulkio_argv(sandbox, "import", "-", "--client", "acme-corp", "--dry-run"),
            env=environment(sandbox, tmp_path), stdin=subprocess.PIPE,
            stderr=subprocess.PIPE) as proc:
        await until_it_catches_sigterm(proc.pid)
        proc.send_signal(signal.SIGTERM)
        with anyio.fail_after(STOP_WITHIN_S + 20):
            await proc.wait()
        assert proc.stderr is not None
        err = b"".join([chunk async for chunk in proc.stderr]).decode().strip()
    assert proc.returncode == 130 and len(err.splitlines()) == 1, err


BLOCKED = """
import sys, time, argparse, anyio
from bulkio.cli import main as m
m.STOP_WITHIN_S = 1.0
async def blocked(args):
    print("blocked", flush=True)
    time.sleep(1000)  # a call that never returns, on the event loop's own thread
    return 0
args = argparse.Namespace(handler=blocked, terminated=False)
sys.exit(anyio.run(m.run_command, args))
"""


async def test_a_stop_that_cannot_finish_ends_at_once() -> None:
    """When the graceful stop cannot happen (the loop's thread is stuck), the process still
    ends STOP_WITHIN_S after the signal, exit 130, saying to resume."""
    async with await anyio.open_process([sys.executable, "-c", BLOCKED], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        with anyio.fail_after(30):
            assert (await proc.stdout.receive()).startswith(b"blocked")
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        with anyio.fail_after(20):
            await proc.wait()
        err = b"".join([chunk async for chunk in proc.stderr]).decode()
    assert proc.returncode == 130 and time.monotonic() - started < 20
    assert "stopped at once (the stop took over 1 s)" in err and "--resume" in err


async def until_it_catches_sigterm(pid: int) -> None:
    with anyio.fail_after(30):  # the kernel says when bulkio's handler is in place
        while not catches_sigterm(pid):
            await anyio.sleep(0.02)


def catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM (the SigCgt mask of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False
