"""A bounded pool: one producer -> a small buffer -> N workers -> a small buffer -> one consumer.

The buffers hold a small multiple of the concurrency, never more, so the producer is never far
ahead of the workers (backpressure) and memory stays flat whatever the input's size. Knows no
HTTP: the work is whatever function it is given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import anyio
from anyio.abc import ObjectReceiveStream, ObjectSendStream

J = TypeVar("J")
R = TypeVar("R")


async def run_pool(
    produce: Callable[[ObjectSendStream[J]], Awaitable[None]],
    work: Callable[[J], Awaitable[R]],
    consume: Callable[[ObjectReceiveStream[R]], Coroutine[Any, Any, None]],
    *,
    concurrency: int,
) -> None:
    """Run until the producer is done and every result is consumed.

    An exception in any part cancels the rest and propagates (unwrapped by `first_error`).
    """
    buffer = max(2, 2 * concurrency)
    jobs_in, jobs_out = anyio.create_memory_object_stream[J](buffer)
    results_in, results_out = anyio.create_memory_object_stream[R](buffer)

    async def producer() -> None:
        async with jobs_in:
            await produce(jobs_in)

    async def worker(jobs: ObjectReceiveStream[J], results: ObjectSendStream[R]) -> None:
        async with jobs, results:
            async for job in jobs:
                await results.send(await work(job))

    async with anyio.create_task_group() as tg:
        tg.start_soon(producer)
        for _ in range(concurrency):
            tg.start_soon(worker, jobs_out.clone(), results_in.clone())
        jobs_out.close()
        results_in.close()
        tg.start_soon(consume, results_out)


def first_error(error: BaseException) -> BaseException:
    """The error that stopped a task group, out of its (nested) exception groups.

    Prefers a real error over the cancellations it caused.
    """
    while isinstance(error, BaseExceptionGroup):
        real = [e for e in error.exceptions if not isinstance(e, anyio.get_cancelled_exc_class())]
        error = (real or list(error.exceptions))[0]
    return error
