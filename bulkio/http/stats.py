"""Counters for one run, shared by every layer and copied into reports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass
class RunStats:
    requests: int = 0  # HTTP requests sent, every attempt counted
    retries: int = 0  # attempts that were repeats of a failed one
    rate_limited: int = 0  # 429 answers received
    refreshes: int = 0  # access-token refreshes
    logins: int = 0  # password logins
    batch_requests: int = 0  # batch POST calls (each up to 50 leads; retries in `retries`)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def retry_counter(self, log: logging.Logger, method: str, path: str
                      ) -> Callable[[Exception, float], None]:
        """A retry policy's `on_retry`: counts each repeat, and says it at debug level."""
        def count(error: Exception, delay: float) -> None:
            self.retries += 1
            log.debug("retrying %s %s after %s (waiting %.2f s)", method, path, error, delay)
        return count
