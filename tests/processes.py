"""Stopping bulkio mid-way for crash tests: real processes (an environment that reaches the
sandbox, a signal once the server has counted enough of a request), or an operation in this
process cancelled as Ctrl-C cancels it, at the same kind of moment (no sleeps)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import anyio

from bulkio.sandbox import Sandbox


async def cancel_when(sb: Sandbox, operation: Awaitable[Any], *, event: str, count: int) -> None:
    """Run `operation`; cancel it once the sandbox has counted `event` `count` times in all."""
    reached = sb.state.when(event, count)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            async def stop() -> None:
                await reached.wait()
                scope.cancel()

            tg.start_soon(stop)
            await operation
    assert scope.cancelled_caught, f"the operation ended before {count} {event}"


def sandbox_env(sb: Sandbox) -> dict[str, str]:
    """The LEADGENIUS_* variables that reach this sandbox."""
    return {"LEADGENIUS_EMAIL": sb.email, "LEADGENIUS_PASSWORD": sb.password,
            "LEADGENIUS_API_KEY": sb.api_key, "LEADGENIUS_USER_ID": sb.user_id,
            "LEADGENIUS_BASE_URL": sb.base_url}


def environment(sb: Sandbox, tmp_path: Path) -> dict[str, str]:
    """The caller's environment without its LEADGENIUS_* and HUBSPOT_*, plus this sandbox's
    credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADGENIUS_", "HUBSPOT_"))}
    env.update(LEADGENIUS_EMAIL=sb.email, LEADGENIUS_PASSWORD=sb.password,
               LEADGENIUS_API_KEY=sb.api_key, LEADGENIUS_USER_ID=sb.user_id,
               LEADGENIUS_AUTH_FILE=str(tmp_path / "auth.json"),
               LEADGENIUS_LEGACY_AUTH_FILE=str(tmp_path / "legacy-auth.json"))
    return env


async def stop_after(sb: Sandbox, argv: list[str], env: dict[str, str], *, event: str,
                     count: int, sig: int) -> tuple[int, bytes]:
    """Run `argv`; send `sig` once the sandbox has counted `event` `count` times. The exit code
    (negative for a signal) and what it wrote to stderr (read as it comes: a full pipe would
    stall the process). A process that ends before the count fails the test with its stderr."""
    reached = sb.state.when(event, count)
    err = bytearray()
    async with await anyio.open_process(argv, env=env, stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None
        stream = proc.stderr

        async def drain() -> None:
            async for chunk in stream:
                err.extend(chunk)

        async def signal_when_reached() -> None:
            with anyio.fail_after(60):
                await reached.wait()
            proc.send_signal(signal.Signals(sig))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(drain)
            tasks.start_soon(signal_when_reached)
            with anyio.fail_after(120):
                await proc.wait()
            assert reached.is_set(), f"exit {proc.returncode} before the signal: {err.decode()}"
            tasks.cancel_scope.cancel()
    return proc.returncode or 0, bytes(err)


async def second_while_first_runs(sb: Sandbox, first: list[str], second: list[str],
                                  env: dict[str, str], *, event: str, count: int,
                                  hold: bool = False) -> tuple[int, int, int, bytes]:
    """Run `first`; once the sandbox has counted `event` `count` times, run `second` to its end
    while `first` still runs; then let `first` finish. (first's exit code, first's pid,
    second's exit code and stderr). `hold`: `event` is a route whose requests wait while
    `second` runs, so a fast `first` cannot end before `second` has tried."""
    reached = sb.state.when(event, count)
    async with await anyio.open_process(first, env=env, stderr=subprocess.DEVNULL) as proc:
        with anyio.fail_after(60):
            await reached.wait()
        release = sb.state.hold(event) if hold else None
        assert proc.returncode is None, "the first process ended before the second started"
        try:
            with anyio.fail_after(60):
                other = await anyio.run_process(second, env=env, check=False)
        finally:
            if release is not None:
                release.set()
        with anyio.fail_after(120):
            await proc.wait()
    return proc.returncode or 0, proc.pid, other.returncode, other.stderr
