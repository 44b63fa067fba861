"""What `bulkio process` reports, shows while running, and plans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROCESS_REPORT_KEYS = (
    "leads", "triggered", "skipped", "not_found", "rejected", "unknown", "not_sent",
    "runs", "completed", "failed", "running", "polls", "requests", "retries", "rate_limited",
    "elapsed_s", "dry_run",
)


@dataclass
class ProcessReport:
    """Per lead: leads == triggered + skipped + not_found + rejected + unknown + not_sent.
    Per run: runs == completed + failed + running (running: not final when tracking ended,
    or not tracked, without --wait)."""

    leads: int = 0
    triggered: int = 0
    skipped: int = 0
    not_found: int = 0
    rejected: int = 0
    unknown: int = 0
    not_sent: int = 0
    runs: int = 0
    completed: int = 0
    failed: int = 0
    running: int = 0
    polls: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    elapsed_s: float = 0.0
    dry_run: bool = False
    # Context for people, not part of the JSON report:
    kind: str = ""
    job_dir: str = ""
    report_path: str | None = None
    out_path: str | None = None
    tracked: bool = False
    interrupted: bool = False
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        problems = self.rejected + self.unknown + self.not_sent + self.failed
        return not (problems or self.interrupted or (self.tracked and self.running))

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in PROCESS_REPORT_KEYS}


@dataclass(frozen=True)
class ProcessProgress:
    phase: str
    leads: int  # selected so far
    to_send: int  # leads still to trigger
    sent: int  # triggers sent by this run
    triggered: int
    skipped: int
    in_doubt: int
    runs: int
    finished_runs: int
    requests: int
    retries: int
    rate_limited: int
    elapsed_s: float
    per_minute: float | None
    waiting_s: float = 0.0


@dataclass(frozen=True)
class ProcessPlan:
    """--dry-run: what a processing job would do, from the settings and the listing."""

    kind: str
    runnable: list[Any]
    not_configured: list[Any]
    settings_kind: str
    selected: int
    to_trigger: int
    already_filled: int
    filtered_out: int
    missing: int
    requests: int  # triggers, and polls if --wait (about 2 a run)
    per_minute: float | None
