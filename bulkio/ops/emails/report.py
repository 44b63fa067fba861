"""What `bulkio emails validate` reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EMAIL_REPORT_KEYS = ("checked", "valid", "invalid", "risky", "unknown", "unchecked", "duplicates",
                     "no_email", "requests", "retries", "rate_limited", "elapsed_s")


@dataclass
class EmailReport:
    checked: int = 0  # distinct addresses given a verdict: valid + invalid + risky + unknown
    valid: int = 0  # valid (validate) / deliverable (verify)
    invalid: int = 0  # invalid / undeliverable
    risky: int = 0  # verify only
    unknown: int = 0  # verify's unknown (or a checker's answer without a verdict)
    unchecked: int = 0  # distinct addresses the checker did not answer for (--resume asks)
    duplicates: int = 0  # rows repeating an address already checked
    no_email: int = 0  # rows without an address
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    elapsed_s: float = 0.0
    out_path: str | None = None
    report_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in EMAIL_REPORT_KEYS}
