"""Contract: processing settings, the three trigger routes, runs and their tracking, email
checks (docs/api-contract.md, "Processing" and "Email checks")."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.conftest import RawApi, lead


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, run_seconds=(0.05, 0.1))


@pytest.fixture
async def lead_id(api: RawApi) -> str:
    slug = (await api.call("POST", "/api/clients", json={"clientName": "Proc"})).body["client"]["client_id"]
    answer = await api.call("POST", "/api/leads", json=lead(slug, email="ada@acme.com",
                                                              companyName="Acme"))
    return str(answer.body["lead"]["id"])


async def configure(api: RawApi) -> None:
    assert (await api.call("POST", "/api/settings/url", json={
        "companyUrl": "https://u.example/1", "enrichment1": "https://u.example/e1"})).status == 201
    assert (await api.call("POST", "/api/settings/agent", json={
        "projectId": "p", "enrichment3AgentId": "a3"})).status == 201
    assert (await api.call("POST", "/api/settings/sdr-ai", json={
        "projectId": "p", "aiLeadScoreAgentId": "s1"})).status == 201


async def final(api: RawApi, run_id: str) -> dict[str, Any]:
    """Poll one run until it is final (runs here last 50-100 ms)."""
    with anyio.fail_after(10):
        while True:
            run = (await api.call("GET", "/api/trigger-task-status",
                                  params={"runId": run_id})).body["run"]
            if run["status"] in ("COMPLETED", "FAILED", "CANCELED"):
                return dict(run)
            await anyio.sleep(0.02)


async def test_settings_are_created_once_then_updated(api: RawApi) -> None:
    """GET is null before any; POST creates (409 the second time); PUT updates; unknown
    fields are 400."""
    assert (await api.call("GET", "/api/settings/url")).body == {"success": True, "settings": None}
    assert (await api.call("PUT", "/api/settings/url", json={"companyUrl": "u"})).status == 404
    assert (await api.call("POST", "/api/settings/url", json={"companyUrl": "u"})).status == 201
    assert (await api.call("POST", "/api/settings/url", json={"companyUrl": "v"})).status == 409
    answer = await api.call("PUT", "/api/settings/url", json={"enrichment1": "e"})
    assert answer.body["settings"] == {"companyUrl": "u", "enrichment1": "e"}
    assert (await api.call("PUT", "/api/settings/agent", json={"bogus": 1})).status == 400


async def test_enrich_triggers_configured_services_and_the_run_writes_the_lead(
        api: RawApi, lead_id: str) -> None:
    """Services without a URL are skipped; a run goes QUEUED -> ... -> COMPLETED and writes
    its field onto the lead; a filled field is skipped unless overwrite."""
    await configure(api)
    answer = await api.call("POST", "/api/leads/process/enrich", json={
        "leadId": lead_id, "services": ["companyUrl", "enrichment1", "enrichment3"]})
    body = answer.body
    assert answer.status == 200 and body["success"] and body["leadId"] == lead_id
    assert body["triggered"] == ["companyUrl", "enrichment1"] and body["skipped"] == ["enrichment3"]
    assert len(body["runIds"]) == 2 and body["batchTag"].startswith("enrich-process-")
    first = (await api.call("GET", "/api/trigger-task-status",
                            params={"runId": body["runIds"][0]})).body["run"]
    assert first["status"] in ("QUEUED", "EXECUTING") and first["leadId"] == lead_id
    assert first["taskIdentifier"] == "enrich:companyUrl" and first["batchTag"] == body["batchTag"]
    runs = [await final(api, run_id) for run_id in body["runIds"]]
    assert [r["status"] for r in runs] == ["COMPLETED", "COMPLETED"]
    assert all(r["finishedAt"] >= r["startedAt"] >= r["createdAt"] for r in runs)
    stored = (await api.call("GET", "/api/leads", params={"client_id": "proc"})).body["leads"][0]
    assert stored["companyUrl"] == "https://www.acme.com" and stored["enrichment1"]
    again = (await api.call("POST", "/api/leads/process/enrich", json={
        "leadId": lead_id, "services": ["companyUrl"]})).body
    assert again["triggered"] == [] and again["skipped"] == ["companyUrl"] and again["runIds"] == []
    forced = (await api.call("POST", "/api/leads/process/enrich", json={
        "leadId": lead_id, "services": ["companyUrl"], "overwrite": True})).body
    assert forced["triggered"] == ["companyUrl"]


async def test_copyright_and_sdr_follow_their_agent_settings(api: RawApi, lead_id: str) -> None:
    """copyright: one run per process with an agent id; sdr: one run for its fields."""
    await configure(api)
    body = (await api.call("POST", "/api/leads/process/copyright", json={
        "leadId": lead_id, "processes": [1, 3]})).body
    assert body["triggered"] == [3] and body["skipped"] == [1] and len(body["runIds"]) == 1
    assert (await final(api, body["runIds"][0]))["taskIdentifier"] == "copyright:3"
    body = (await api.call("POST", "/api/leads/process/sdr", json={
        "leadId": lead_id, "fields": ["aiLeadScore", "message1"]})).body
    assert body["triggered"] == ["aiLeadScore"] and body["skipped"] == ["message1"]
    await final(api, body["runIds"][0])
    stored = (await api.call("GET", "/api/leads", params={"client_id": "proc"})).body["leads"][0]
    assert isinstance(stored["aiLeadScore"], int) and stored["copyright3"]


async def test_bad_trigger_bodies_and_unknown_leads(api: RawApi, lead_id: str) -> None:
    """404 not_found for an unknown lead; 400 for an unknown service, process or field."""
    missing = await api.call("POST", "/api/leads/process/enrich", json={
        "leadId": "lead-nope", "services": ["companyUrl"]})
    assert missing.status == 404 and missing.body["errorType"] == "not_found"
    for kind, body in (("enrich", {"services": ["fax"]}), ("copyright", {"processes": [11]}),
                       ("sdr", {"fields": ["email"]}), ("enrich", {})):
        answer = await api.call("POST", f"/api/leads/process/{kind}", json={"leadId": lead_id, **body})
        assert answer.status == 400 and answer.body["errorType"] == "invalid_value", kind
    assert (await api.call("GET", "/api/trigger-task-status",
                           params={"runId": "run_nope"})).status == 404


async def test_recent_runs_are_newest_first_and_failures_say_why(
        api: RawApi, sandbox: Sandbox, lead_id: str) -> None:
    """trigger-recent-runs lists the newest first (limit 1..100); --run-failure-rate 1 fails
    every run, with an error and nothing written."""
    await configure(api)
    sandbox.config.run_failure_rate = 1.0
    ids = []
    for _ in range(3):
        ids += (await api.call("POST", "/api/leads/process/enrich", json={
            "leadId": lead_id, "services": ["enrichment1"], "overwrite": True})).body["runIds"]
    recent = (await api.call("GET", "/api/trigger-recent-runs", params={"limit": 2})).body["runs"]
    assert [r["id"] for r in recent] == ids[::-1][:2]
    failed = await final(api, ids[0])
    assert failed["status"] == "FAILED" and failed["error"]
    stored = (await api.call("GET", "/api/leads", params={"client_id": "proc"})).body["leads"][0]
    assert "enrichment1" not in stored
    assert sandbox.state.processing.triggers[(lead_id, "enrich")] == 3


@pytest.mark.parametrize(("email", "valid", "reason", "result"), [
    ("ada@acme.com", True, "ok", "deliverable"),
    ("omar.garcía.3@cyberdyne.ai", True, "ok", "deliverable"),
    ("info@acme.com", True, "ok", "risky"),
    ("ada@mailinator.com", False, "disposable", "risky"),
    ("ada@example.com", False, "no_mx", "undeliverable"),
    ("ada@acme", False, "syntax", "undeliverable"),
    ("ada..b@acme.com", False, "syntax", "undeliverable"),
    ("bounce.7@acme.com", True, "ok", "undeliverable"),
    ("ada@greylisted.net", True, "ok", "unknown"),
])
async def test_email_checks_are_deterministic(api: RawApi, email: str, valid: bool, reason: str,
                                              result: str) -> None:
    body = (await api.call("POST", "/api/email-validate", json={"email": email})).body
    assert body == {"success": True, "email": email, "valid": valid, "reason": reason}
    deep = (await api.call("POST", "/api/email-verify", json={"email": email})).body
    assert deep["result"] == result and deep["email"] == email and deep["reason"]
    assert (await api.call("POST", "/api/email-validate", json={})).status == 400


async def test_task_names_and_the_clock_are_knobs(api: RawApi, lead_id: str) -> None:
    """--task-names opaque: a run's taskIdentifier says nothing of its kind (the API documents
    no format); the batch tag keeps its documented form. --clock-skew: runs' times and the
    tag's epoch are in the server's clock, that far from the real one."""
    import time
    from datetime import datetime

    await configure(api)
    api.sb.config.task_names, api.sb.config.clock_skew_s = "opaque", -3600.0
    before = time.time()
    answer = await api.call("POST", "/api/leads/process/enrich",
                            json={"leadId": lead_id, "services": ["companyUrl"]})
    (run_id,) = answer.body["runIds"]
    tag = answer.body["batchTag"]
    assert tag.startswith("enrich-process-")
    assert abs(int(tag.split("-")[2]) - (before - 3600)) < 5
    run = (await api.call("GET", "/api/trigger-task-status", params={"runId": run_id})).body["run"]
    assert run["batchTag"] == tag and not run["taskIdentifier"].startswith("enrich")
    created = datetime.fromisoformat(run["createdAt"].replace("Z", "+00:00")).timestamp()
    assert abs(created - (before - 3600)) < 5
