"""What the library entry points share: options from keyword arguments, an operation awaited
so that its own error (not its task group's) reaches the caller, a job's run with its log, and
a blocking call for synchronous code."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import anyio

from ..ops.jobs import HasMeta, job_log
from ..ops.pool import first_error

R = TypeVar("R")
T = TypeVar("T")
PATH_OPTIONS = ("job_dir", "rejects", "report", "state_dir")


def options_of(base: T, values: dict[str, Any]) -> T:
    """`base` with these option values; paths may be given as str, as library callers do."""
    paths = {k: Path(v) for k, v in values.items() if k in PATH_OPTIONS and isinstance(v, str)}
    return replace(base, **{**values, **paths})  # type: ignore[type-var]


async def run_operation(operation: Awaitable[R]) -> R:
    """Await an operation; the error that stopped it rather than its task group's wrapper."""
    try:
        return await operation
    except BaseExceptionGroup as group:
        raise first_error(group) from None


class NothingDone(Exception):
    """Never raised: the default `nothing_done` of a job that always leaves something."""


async def run_job(job_dir: Path, db: HasMeta, operation: Callable[[], Awaitable[R]], *,
                  nothing_done: type[BaseException] = NothingDone) -> R:
    """A job's run, logged to JOB/log.txt; its database closed at the end. Stopped by
    `nothing_done` (nothing was sent), the job directory goes too: nothing to resume."""
    try:
        with job_log(job_dir):
            return await run_operation(operation())
    except nothing_done:
        db.close()
        shutil.rmtree(job_dir, ignore_errors=True)
        raise
    finally:
        db.close()


def blocking(call: Callable[[], Awaitable[T]]) -> T:
    """Run `call` to its end from synchronous code: here, or in a worker thread with an event
    loop of its own where one is already running (a Jupyter notebook)."""
    def run() -> T:
        result: T = anyio.run(call, backend="asyncio")
        return result

    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop here: the common case of a script
        return run()
    with ThreadPoolExecutor(1, thread_name_prefix="bulkio") as worker:
        return worker.submit(run).result()
