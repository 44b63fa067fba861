"""The sandbox's processing runs and settings, in memory (see `processing`)."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FINAL = ("COMPLETED", "FAILED", "CANCELED")


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


@dataclass
class Run:
    id: str
    task: str
    lead_id: str
    company_id: str
    batch_tag: str
    created: float
    started: float
    ends: float
    results: dict[str, Any]  # written onto the lead when it completes
    fails: bool
    status: str = "QUEUED"  # until it ends; then set by `finish`
    finished: float | None = None

    def record(self, now: float, *, skew: float = 0.0, names: str = "kind") -> dict[str, Any]:
        """The run as the API shows it, in the server's clock (`skew` ahead of the real one),
        its task named as `names` says (`kind` or `opaque`)."""
        status = self.status
        if status == "QUEUED" and now >= self.started:
            status = "EXECUTING"
        task = self.task if names == "kind" else opaque(self.task)
        out: dict[str, Any] = {"id": self.id, "status": status, "taskIdentifier": task,
                               "leadId": self.lead_id, "batchTag": self.batch_tag,
                               "createdAt": iso(self.created + skew)}
        if status != "QUEUED":
            out["startedAt"] = iso(self.started + skew)
        if self.finished is not None:
            out["finishedAt"] = iso(self.finished + skew)
        if status == "FAILED":
            out["error"] = f"{task}: the service answered 502 Bad Gateway"
        return out


def opaque(task: str) -> str:
    """A task's name that says nothing of its kind: what another server might call it."""
    return "lg_task_" + hashlib.sha1(task.encode()).hexdigest()[:12]


@dataclass
class Processing:
    """Settings per company and kind, and every run, oldest first."""

    settings: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    triggers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (lead, kind): calls

    def recent(self, company_id: str, limit: int) -> list[Run]:
        found: list[Run] = []
        for run in reversed(self.runs.values()):
            if run.company_id == company_id:
                found.append(run)
                if len(found) == limit:
                    break
        return found
