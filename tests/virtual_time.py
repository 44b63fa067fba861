"""An asyncio event loop whose clock jumps ahead instead of waiting.

Whenever the loop would block until its next timer, virtual time advances to that timer at
once. Code that waits on `loop.time()` (aiolimiter, asyncio.sleep, anyio.sleep) runs in
microseconds of real time, deterministically. For pure tests only: no real I/O.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")
MIN_STEP = 1e-6


class _JumpingSelector(selectors.DefaultSelector):
    def __init__(self) -> None:
        super().__init__()
        self.loop: VirtualTimeLoop | None = None

    def select(self, timeout: float | None = None) -> list[Any]:
        events = super().select(0)
        assert self.loop is not None
        if events or (timeout == 0 and self.loop._ready):  # type: ignore[attr-defined]  # asyncio's run queue
            return events  # there is work to do now: time stands still
        if timeout is None:
            raise RuntimeError("virtual time: every task is waiting and no timer is set (deadlock)")
        # Idle: jump to the next timer, and by at least a microsecond. On a real loop time
        # always passes between turns; a timer due "now" (aiolimiter sets one while its bucket
        # drains a rounding error) would otherwise fire forever at one instant.
        self.loop.now += max(timeout, MIN_STEP)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self, start: float = 1000.0) -> None:
        selector = _JumpingSelector()
        super().__init__(selector)
        selector.loop = self
        self.now = start

    def time(self) -> float:
        return self.now


def run_virtual(main: Callable[[], Awaitable[T]]) -> T:
    """Run `main()` to completion on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()
