"""The processing and email-check endpoints of the LeadGenius Pro API, one method each (mixed
into `LeadGeniusClient`; docs/api-contract.md, "Processing" and "Email checks")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

PROCESS_KINDS = ("enrich", "copyright", "sdr")
SETTINGS_OF = {"enrich": "url", "copyright": "agent", "sdr": "sdr-ai"}
ITEMS_KEY = {"enrich": "services", "copyright": "processes", "sdr": "fields"}
MAX_RECENT_RUNS = 100
FINAL_STATUSES = frozenset(("COMPLETED", "FAILED", "CANCELED", "CANCELLED", "CRASHED",
                            "SYSTEM_FAILURE", "EXPIRED", "TIMED_OUT"))  # Trigger.dev's finals


@dataclass(frozen=True)
class Triggered:
    """What a trigger answered: the runs it started and what it skipped."""

    run_ids: list[str]
    triggered: list[Any]
    skipped: list[Any]
    batch_tag: str | None


class _Requests(Protocol):
    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      body: Any = None, idempotent: bool = True) -> dict[str, Any]: ...


class ProcessingCalls:
    """Settings, triggers, runs and email checks."""

    async def get_settings(self: _Requests, kind: str) -> dict[str, Any] | None:
        """GET /api/settings/{url,agent,sdr-ai}: the company's settings, None when none."""
        settings = (await self.request("GET", f"/api/settings/{kind}")).get("settings")
        return settings if isinstance(settings, dict) else None

    async def save_settings(self: _Requests, kind: str, values: Mapping[str, Any], *,
                            create: bool) -> dict[str, Any]:
        """POST (create) or PUT (update) /api/settings/{kind}."""
        answer = await self.request("POST" if create else "PUT", f"/api/settings/{kind}",
                                    body=dict(values))
        settings = answer.get("settings")
        return settings if isinstance(settings, dict) else {}

    async def trigger(self: _Requests, kind: str, lead_id: str, items: Sequence[Any], *,
                      overwrite: bool = False) -> Triggered:
        """POST /api/leads/process/{enrich,copyright,sdr} for one lead. Not idempotent (each
        trigger spends the services' credits): a lost answer raises OutcomeUnknown."""
        body = {"leadId": lead_id, ITEMS_KEY[kind]: list(items), "overwrite": overwrite}
        answer = await self.request("POST", f"/api/leads/process/{kind}", body=body,
                                    idempotent=False)
        return Triggered(run_ids=[str(r) for r in answer.get("runIds") or []],
                         triggered=list(answer.get("triggered") or []),
                         skipped=list(answer.get("skipped") or []),
                         batch_tag=answer.get("batchTag"))

    async def run_status(self: _Requests, run_id: str) -> dict[str, Any]:
        """GET /api/trigger-task-status: one run (status, leadId, error...)."""
        run = (await self.request("GET", "/api/trigger-task-status",
                                  params={"runId": run_id})).get("run")
        return run if isinstance(run, dict) else {}

    async def recent_runs(self: _Requests, limit: int = MAX_RECENT_RUNS) -> list[dict[str, Any]]:
        """GET /api/trigger-recent-runs: the company's newest runs, newest first."""
        runs = (await self.request("GET", "/api/trigger-recent-runs",
                                   params={"limit": min(limit, MAX_RECENT_RUNS)})).get("runs")
        return [r for r in runs or [] if isinstance(r, dict)]

    async def validate_email(self: _Requests, email: str) -> dict[str, Any]:
        """POST /api/email-validate: {"valid", "reason"} (syntax, no_mx, disposable)."""
        return await self.request("POST", "/api/email-validate", body={"email": email})

    async def verify_email(self: _Requests, email: str) -> dict[str, Any]:
        """POST /api/email-verify (deep): {"result": deliverable|undeliverable|risky|unknown}."""
        return await self.request("POST", "/api/email-verify", body={"email": email})
