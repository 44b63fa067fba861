"""What every operation's run shares: progress ticks, a finish that always runs, and totals
that add up over a job's runs (a resumed job reports the whole job, not the last run)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from ..stats import RunStats

R = TypeVar("R")
TICK_S = 0.25


async def run_then_finish(work: Callable[[], Awaitable[None]],
                          finish: Callable[[bool], Awaitable[R]],
                          tick: Callable[[], None] | None) -> R:
    """Run `work` while calling `tick` every quarter second; then `finish(interrupted)`,
    shielded, whether the work ended, failed or was cancelled (Ctrl-C)."""
    interrupted = True
    try:
        async with anyio.create_task_group() as tg:
            if tick is not None:
                tg.start_soon(_ticks, tick)
            await work()
            tg.cancel_scope.cancel()
        interrupted = False
    finally:
        with anyio.CancelScope(shield=True):
            result = await finish(interrupted)
    return result


async def _ticks(tick: Callable[[], None]) -> None:
    while True:
        tick()
        await anyio.sleep(TICK_S)


def job_totals(before: dict[str, Any], stats: RunStats, started: float) -> dict[str, Any]:
    """This run's counters added to those of the job's earlier runs (`before`)."""
    return {
        "requests": int(before.get("requests", 0)) + stats.requests,
        "retries": int(before.get("retries", 0)) + stats.retries,
        "rate_limited": int(before.get("rate_limited", 0)) + stats.rate_limited,
        "elapsed_s": round(float(before.get("elapsed_s", 0.0)) + time.monotonic() - started, 3),
    }
