"""What every operation's run shares: progress ticks, a finish that always runs, and totals
that add up over a job's runs (a resumed job reports the whole job, not the last run)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import orjson

from ..errors import Interrupted
from ..http.stats import RunStats
from ..models import Ended
from ..store.files import atomic_write
from .pool import first_error

R = TypeVar("R")
P = TypeVar("P")
TICK_S = 0.25


async def run_then_finish(work: Callable[[], Awaitable[None]],
                          finish: Callable[[Ended], Awaitable[R]],
                          progress: Callable[[], P], on_progress: Callable[[P], None] | None) -> R:
    """Run `work` while passing `progress()` to `on_progress` every quarter second; then
    `finish(ended)`, shielded, with how the run ended (FAILED: the error then goes on up)."""
    ended = Ended.FAILED
    try:
        async with anyio.create_task_group() as tg:
            if on_progress is not None:
                tg.start_soon(_ticks, lambda: on_progress(progress()))
            await work()
            tg.cancel_scope.cancel()
        ended = Ended.DONE
    except BaseException as error:  # from a task group, wrapped in an exception group
        if isinstance(first_error(error), (KeyboardInterrupt, Interrupted,
                                           anyio.get_cancelled_exc_class())):
            ended = Ended.INTERRUPTED
        raise
    finally:
        with anyio.CancelScope(shield=True):
            result = await finish(ended)
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
        "batch_requests": int(before.get("batch_requests", 0)) + stats.batch_requests,
        "elapsed_s": round(float(before.get("elapsed_s", 0.0)) + time.monotonic() - started, 3),
    }


def write_report(path: Path, report: Any) -> str:
    """The report's JSON (exactly its documented keys), written atomically; its path."""
    atomic_write(path, orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2))
    return str(path)
