"""One quota for the whole run: every request of every worker takes a slot here first.

Sizing the limiter. `AsyncLimiter(100, 60)` lets 100 requests through at once at start and
a server with a sliding window answers the 101st with 429. A leaky bucket with capacity
`burst` leaking `rate` a second admits at most `burst + 60 * rate` requests in any 60 s, so
with `rate = (quota - burst) / 60` no 60-second window ever holds more than the quota. The
burst is 1 (strict pacing) below 1,000 a minute; above that a few slots absorb timer lateness
so pacing does not fall behind (99.8% of the quota at 1,000/min, 99.9% at 6,000/min).

Feedback from the server:
- 429: every worker pauses for Retry-After, not just the one that was refused.
- X-RateLimit-Remaining 0: pause until X-RateLimit-Reset, before the server says no.
- X-RateLimit-Limit below our rate (wrong --tier, or the quota is shared): slow to it.

All waiting uses the event loop's clock, so tests drive it with a virtual-time loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import Callable, Mapping

import anyio
from aiolimiter import AsyncLimiter

from ..errors import ConfigError

log = logging.getLogger("bulkio.quota")

MAX_HEADER_PAUSE = 120.0  # ignore a Reset further away than this: a clock skew, not a quota


def bucket(limit: float, period: float = 60.0) -> tuple[int, float]:
    """(burst, leak rate a second) that never admits more than `limit` in any `period` s."""
    burst = 1 + int(limit * 60.0 / period // 1000)
    if limit <= burst:
        return 1, limit / period  # tiny quotas: strict pacing
    return burst, (limit - burst) / period


def parse_retry_after(value: str | None, wall: Callable[[], float] = time.time) -> float | None:
    """Retry-After as seconds (a number of seconds or an HTTP date); None if absent or garbage."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - wall()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


class Quota:
    """The run's request budget: `limit` requests in any `period` seconds (a minute for
    LeadGenius's tiers, 10 s for HubSpot's); `limit=None` turns client-side pacing off."""

    def __init__(self, limit: float | None, *, wall: Callable[[], float] = time.time,
                 period: float = 60.0) -> None:
        self._wall = wall
        self._paused_until = 0.0  # event-loop time
        self.period = period
        self.limit = limit
        self._limiter = self._make_limiter(limit)

    @property
    def per_minute(self) -> float | None:
        """The pace in requests a minute (for ETAs)."""
        return None if self.limit is None else self.limit * 60.0 / self.period

    def _make_limiter(self, limit: float | None) -> AsyncLimiter | None:
        if limit is None:
            return None
        burst, rate = bucket(limit, self.period)
        return AsyncLimiter(burst, burst / rate)

    def slow_to(self, limit: float, reason: str, period: float | None = None) -> None:
        """The server's limit (over its own `period`, if it says) is stricter than ours: take
        it. Stricter: a lower pace, or the same pace over a shorter window (fewer at once).
        Never raises the pace, and pacing turned off stays off."""
        period = period or self.period
        if self.limit is None or (limit, period) == (self.limit, self.period):
            return
        if limit / period > self.limit / self.period or (
                limit / period == self.limit / self.period and period >= self.period):
            return
        log.warning("%s: slowing down to it", reason)
        self.limit, self.period = limit, period
        self._limiter = self._make_limiter(limit)

    @property
    def is_open(self) -> bool:
        """No pacing and no pause: a caller may skip acquire() altogether."""
        return self._limiter is None and not self._is_paused()

    async def acquire(self) -> None:
        """Wait for a slot. Never returns during a pause."""
        while True:
            await self._wait_out_pause()
            if self._limiter is not None:
                await self._limiter.acquire()
            if not self._is_paused():
                return
            # A 429 arrived while this worker queued: wait it out, then take a fresh slot, so
            # the workers do not all fire the moment the pause ends.

    def pause(self, seconds: float, reason: str, *, problem: bool = True) -> None:
        """Hold every worker for `seconds` (extends, never shortens, a running pause). A pause
        that is only pacing (the server said its quota is used for now, before refusing
        anything) is logged at info: nothing went wrong."""
        now = self._now()
        until = now + seconds
        if until > self._paused_until:
            if self._paused_until <= now:
                log.log(logging.WARNING if problem else logging.INFO,
                        "%s: pausing all requests for %.1f s", reason, seconds)
            self._paused_until = until

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a response's status and X-RateLimit-* / Retry-After headers."""
        if status == 429:
            wait = parse_retry_after(headers.get("Retry-After"), self._wall)
            self.pause(wait if wait is not None else 60.0, "rate limited (429)")
        limit = header_number(headers.get("X-RateLimit-Limit"))
        if limit is not None and limit >= 1 and self.limit is not None and limit < self.limit:
            self.slow_to(limit, f"the server's quota is {limit:.0f} requests a minute, below "
                                f"the configured {self.limit:.0f}")
        remaining = header_number(headers.get("X-RateLimit-Remaining"))
        reset = header_number(headers.get("X-RateLimit-Reset"))
        if status != 429 and remaining is not None and remaining <= 0 and reset is not None:
            wait = reset - self._wall()
            if 0 < wait <= MAX_HEADER_PAUSE:
                self.pause(wait, "the quota is used for this minute (X-RateLimit-Remaining: 0)",
                           problem=False)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _is_paused(self) -> bool:
        return self._now() < self._paused_until

    async def _wait_out_pause(self) -> None:
        while (left := self._paused_until - self._now()) > 0:
            await anyio.sleep(left)


def header_number(value: str | None) -> float | None:
    """A numeric header's value; None when absent or not a finite number."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_rate(text: str | None, *, default: int | None, flag: str, per: str,
               hint: str) -> int | None:
    """A `--...-rate` flag: a number of requests `per` ("per 10 seconds"), or `unlimited`
    (None: no client-side pacing); `default` when not given."""
    if text is None:
        return default
    if text.strip().lower() in ("unlimited", "none", "off"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{flag} must be a number of requests {per} ({hint}), not "
                          f"{text!r}") from None
    if value < 1:
        raise ConfigError(f"{flag} must be at least 1 request {per}")
    return value
