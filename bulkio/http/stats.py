"""Counters for one run, shared by every layer and copied into reports."""

from __future__ import annotations

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
