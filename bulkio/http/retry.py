"""When to try a request again, and how long to wait first.

Transient failures (Transient mixin: 429, 500/502/503/504 other than the validation 500,
timeouts, lost connections) are retried with exponential backoff and full jitter, capped, for
a bounded number of attempts. A 429 does not spend the attempt budget (the quota pause does the
waiting) but has a budget of its own, so a quota shared with something greedy cannot hold a
request forever.

A request that is not safe to repeat (a create) is retried only when it certainly did not take
effect: a connection that never opened, a 429, a 503. After a lost answer, a 500, 502 or 504
it may have been applied, so OutcomeUnknown goes up to the caller, who can check and decide.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio

from ..errors import BulkioError, ConnectError, OutcomeUnknown, RateLimited, Transient, TransientApiError

T = TypeVar("T")

#: Statuses after which a create certainly did not happen.
NOT_APPLIED_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # tries in all for one request, 429s aside
    rate_limited_attempts: int = 30
    base_delay: float = 0.5
    max_delay: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, failures: int) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2^(failures-1))]."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, failures - 1))
        return self.rng.uniform(0, ceiling)

    def is_retryable(self, error: BaseException, idempotent: bool) -> bool:
        if not isinstance(error, Transient):
            return False
        if idempotent:
            return True
        if isinstance(error, ConnectError):
            return True
        return isinstance(error, TransientApiError) and error.status in NOT_APPLIED_STATUSES


#: No waiting: for tests (the stamina way), where time is not what is being tested.
NO_WAIT = RetryPolicy(base_delay=0.0, max_delay=0.0)


async def call_with_retries(
    policy: RetryPolicy,
    attempt: Callable[[], Awaitable[T]],
    *,
    idempotent: bool = True,
    what: tuple[str, str] = ("", ""),
    recover: Callable[[BulkioError], Awaitable[bool]] | None = None,
    on_retry: Callable[[BulkioError, float], None] | None = None,
) -> T:
    """Run `attempt` until it succeeds or the policy gives up.

    `recover(error)` may fix a failure (e.g. refresh an expired token) and return True to try
    again at once without spending an attempt. `on_retry(error, delay)` counts and logs.
    Raises the last error, or OutcomeUnknown for a non-idempotent request that may have
    been applied.
    """
    failures = rate_limited = 0
    while True:
        try:
            return await attempt()
        except BulkioError as error:
            if recover is not None and await recover(error):
                continue
            if isinstance(error, RateLimited):
                rate_limited += 1
                exhausted = rate_limited >= policy.rate_limited_attempts
                delay = 0.0  # the quota's run-wide pause does the waiting
            else:
                failures += 1
                exhausted = failures >= policy.attempts
                delay = policy.backoff(failures)
            if not policy.is_retryable(error, idempotent):
                if isinstance(error, Transient) and not idempotent:
                    raise OutcomeUnknown(error, *what) from error
                raise
            if exhausted:
                raise
            if on_retry is not None:
                on_retry(error, delay)
            if delay:
                await anyio.sleep(delay)
