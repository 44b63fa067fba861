"""What the HubSpot twin's routes and its churn share: the data, the token, the quotas."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate

from ..config import SandboxConfig
from ..ratelimit import SlidingWindowQuota
from .store import HubSpotStore


@dataclass
class HubSpotTwin:
    """What the HubSpot routes share: the data, the token, the quotas."""

    store: HubSpotStore
    config: SandboxConfig
    token: str
    rng: random.Random
    quota: SlidingWindowQuota = field(default_factory=lambda: SlidingWindowQuota(window=10.0))
    search_quota: SlidingWindowQuota = field(default_factory=lambda: SlidingWindowQuota(window=1.0))
    used_today: int = 0
    searches: int = 0  # search requests answered (tests count a run's reads)
    inserted: int = 0  # v1 leads added while the list was paged
    changes: list[tuple[str, int, int]] = field(default_factory=list)  # --hubspot-churn's
    on_change: Callable[[], object] | None = None  # called after each (tests wait on it)

    def now_ms(self) -> int:
        """The portal's clock (--hubspot-clock-skew apart from the machine's), in epoch ms:
        what it stamps lastmodifieddate with."""
        return int((time.time() + self.config.hubspot_clock_skew_s) * 1000)

    def http_date(self) -> str:
        """The `Date` header of its answers, in its own clock (to the second, as HTTP has it)."""
        return formatdate(time.time() + self.config.hubspot_clock_skew_s, usegmt=True)
