"""Run blocking calls (SQLite, mostly) off the event loop, one at a time, in call order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


class Serial:
    """`await serial(fn, *args)` runs fn on a worker thread; never two at once.

    One SQLite connection is shared this way (opened with check_same_thread=False): its calls
    never overlap, and the event loop never waits on the disk. The lock is held in the thread
    too: anyio 4.3 could give the limiter back while a cancelled caller's thread still
    ran (seen: "cannot start a transaction within a transaction"), and a lock cannot be fooled.
    """

    def __init__(self) -> None:
        self._limiter = anyio.CapacityLimiter(1)
        self._lock = threading.Lock()

    async def __call__(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def locked() -> T:
            with self._lock:
                return fn(*args, **kwargs)

        return await anyio.to_thread.run_sync(locked, limiter=self._limiter)
