"""Run blocking calls (SQLite, mostly) off the event loop, one at a time, in call order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


class Serial:
    """`await serial(fn, *args)` runs fn on a worker thread; never two at once.

    One SQLite connection is shared this way (opened with check_same_thread=False): its calls
    never overlap, and the event loop never waits on the disk.
    """

    def __init__(self) -> None:
        self._limiter = anyio.CapacityLimiter(1)

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs), limiter=self._limiter)
