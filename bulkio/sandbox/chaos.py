"""The chaos dice: latency, transient errors, lost responses and dropped connections."""

from __future__ import annotations

import random
from enum import Enum

from .config import SandboxConfig


class Fault(Enum):
    ERROR_500 = "500"
    ERROR_503 = "503"
    GATEWAY_502 = "502"
    GATEWAY_504 = "504"
    DROP = "drop"


class Chaos:
    """Rolls the dice for each request from the *current* config, so tests may change knobs."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.rng = random.Random(config.chaos_seed)

    def latency(self) -> float:
        low, high = self.config.latency_ms
        if high <= 0:
            return 0.0
        return self.rng.uniform(low, high) / 1000.0

    def hits(self, method: str, path: str) -> bool:
        """Whether the fault dice roll for this request (--chaos-only)."""
        only = self.config.chaos_only
        return not only or path in only or f"{method} {path}" in only

    def before_work(self) -> Fault | None:
        """A fault that happens before the server does anything."""
        c = self.config
        if c.drop_rate and self.rng.random() < c.drop_rate:
            return Fault.DROP
        if c.error_rate and self.rng.random() < c.error_rate:
            return self.rng.choice((Fault.ERROR_500, Fault.ERROR_503))
        return None

    def after_work(self) -> Fault | None:
        """A fault that loses the answer of work already done."""
        c = self.config
        if c.lost_response_rate and self.rng.random() < c.lost_response_rate:
            return self.rng.choice((Fault.GATEWAY_502, Fault.GATEWAY_504, Fault.DROP))
        return None

    def batch_kept(self, count: int) -> list[int]:
        """Which of a batch POST's `count` valid leads are stored (--batch-drop-mode)."""
        c = self.config
        if c.batch_drop_mode == "all":
            return list(range(count)) if self.keep(c.batch_persist) else []
        return [i for i in range(count) if self.keep(c.batch_persist)]

    def batch_delay(self) -> float:
        """Seconds before a stored batch appears (--batch-persist-delay-ms)."""
        low, high = self.config.batch_persist_delay_ms
        return self.rng.uniform(low, high) / 1000.0 if high > 0 else 0.0

    def listing_lag(self) -> float:
        """Seconds before a created lead appears in listings (--listing-lag-ms)."""
        low, high = self.config.listing_lag_ms
        return self.rng.uniform(low, high) / 1000.0 if high > 0 else 0.0

    def keep(self, probability: float) -> bool:
        """True with `probability`: batch POST persistence, batch DELETE honesty."""
        return probability >= 1.0 or (probability > 0 and self.rng.random() < probability)
