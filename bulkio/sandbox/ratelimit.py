"""Per-identity quota over a sliding window (60 s for LeadGenius, 10 s for the HubSpot twin),
with the X-RateLimit-* answer."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

WINDOW = 60.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int  # when the oldest request in the window leaves it
    retry_after: int  # seconds; meaningful when not allowed

    def headers(self) -> dict[str, str]:
        h = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
             "X-RateLimit-Reset": str(self.reset_epoch)}
        if not self.allowed:
            h["Retry-After"] = str(self.retry_after)
        return h


class SlidingWindowQuota:
    """At most `limit` accepted requests per identity in any `window` seconds (60 by default);
    rejected ones don't count.

    The limit is passed on every check (the sandbox reads it from its live config);
    `None` is unlimited: no headers, never 429. The clocks are injectable so the window can
    be tested without waiting.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, window: float = WINDOW) -> None:
        self.window = window
        self._clock = clock
        self._wall = wall
        self._windows: dict[str, deque[float]] = {}

    def check(self, identity: str, limit: int | None) -> Verdict | None:
        if limit is None:
            return None
        now = self._clock()
        window = self._windows.setdefault(identity, deque())
        while window and window[0] <= now - self.window:
            window.popleft()
        allowed = len(window) < limit
        if allowed:
            window.append(now)
        frees_at = window[0] + self.window if window else now
        wait = max(frees_at - now, 0.0)
        return Verdict(
            allowed=allowed,
            limit=limit,
            remaining=limit - len(window),
            reset_epoch=math.ceil(self._wall() + wait),
            retry_after=max(1, math.ceil(wait)),
        )
