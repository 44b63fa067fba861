"""Lead processing: the settings that drive it, the three trigger routes, and the runs they
start (docs/api-contract.md, "Processing").

A trigger decides per service (enrich), process (copyright) or field (sdr) whether to run it:
skipped when its setting is missing, or when the lead's target field already has a value and
`overwrite` is off. Each triggered service or process gets a run; an SDR trigger gets one run
for its fields. A run is QUEUED, EXECUTING after a tenth of its time, then COMPLETED (its
results written onto the lead) or FAILED (`--run-failure-rate`), after `--run-seconds`.
Runs live in memory. The API documents no format for `taskIdentifier`: by default it says
what a run does (`enrich:companyUrl`, `copyright:3`, `sdr`), and `--task-names opaque` makes
it a name a client cannot parse, so that bulkio is tested on what the API does document (the
trigger's `runIds`, each run's `leadId`, `createdAt` and `batchTag`). `--clock-skew` sets the
server's clock apart from the client's.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from typing import Any

from aiohttp import web

from .replies import answer, failure, int_param, json_object, required
from .runs import Processing, Run
from .state import CALLER, STATE, SandboxState
from .store import User

ENRICH_SERVICES = ("companyUrl", "emailFinder", *(f"enrichment{i}" for i in range(1, 11)))
COPYRIGHT_PROCESSES = range(1, 11)
SDR_FIELDS = ("aiLeadScore", "aiQualification", "aiJustification", "aiRecommendations",
              "aiSdrSynthesis", "leadScore", *(f"message{i}" for i in range(1, 6)))
# Fields runs write, which the lead schema must know (app.LEAD_FIELDS).
RESULT_FIELDS = frozenset((*ENRICH_SERVICES, *(f"copyright{i}" for i in COPYRIGHT_PROCESSES),
                           *SDR_FIELDS))
SETTINGS_FIELDS = {
    "url": frozenset((*ENRICH_SERVICES, *(f"{s}_Apikey" for s in ENRICH_SERVICES))),
    "agent": frozenset(("projectId", *(f"enrichment{i}AgentId" for i in COPYRIGHT_PROCESSES))),
    "sdr-ai": frozenset(("projectId", *(f"{f}AgentId" for f in SDR_FIELDS))),
}
def seed_settings(processing: Processing, company_id: str) -> None:
    """--processing-settings: companyUrl, emailFinder and enrichment1-3 URLs, copyright agents for
    processes 1-3, SDR agents for aiLeadScore, aiQualification and message1."""
    url = {s: f"https://{s.lower()}.enrich.sandbox.local/v1" for s in ENRICH_SERVICES[:5]}
    url.update({f"{s}_Apikey": f"key-{s}" for s in url})
    processing.settings[(company_id, "url")] = url
    processing.settings[(company_id, "agent")] = {
        "projectId": "proj-sandbox", **{f"enrichment{i}AgentId": f"agent-{i}" for i in (1, 2, 3)}}
    processing.settings[(company_id, "sdr-ai")] = {
        "projectId": "proj-sandbox",
        **{f"{f}AgentId": f"sdr-{f}" for f in ("aiLeadScore", "aiQualification", "message1")}}


# -- settings -----------------------------------------------------------------------------------


def settings_route(kind: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        state, user = request.app[STATE], CALLER.get()
        key = (user.company_id, kind)
        current = state.processing.settings.get(key)
        if request.method == "GET":
            return answer(200, {"success": True, "settings": current})
        body = await json_object(request)
        unknown = sorted(set(body) - SETTINGS_FIELDS[kind] - {"id", "company_id"})
        if unknown:
            return failure(400, f"Unknown setting {unknown[0]!r}", "invalid_value")
        if request.method == "POST" and current is not None:
            return failure(409, f"{kind} settings already exist: update them with PUT",
                           "conflict")
        if request.method == "PUT" and current is None:
            return failure(404, f"No {kind} settings yet: create them with POST", "not_found")
        merged = {**(current or {}), **{k: v for k, v in body.items() if k in SETTINGS_FIELDS[kind]}}
        state.processing.settings[key] = merged
        return answer(200 if request.method == "PUT" else 201, {"success": True, "settings": merged})

    return handler


# -- triggers -----------------------------------------------------------------------------------


def _result(field_name: str, lead: dict[str, Any]) -> Any:
    """What a run writes into `field_name`: deterministic, from the lead."""
    email = str(lead.get("email") or "")
    domain = email.partition("@")[2] or str(lead.get("companyDomain") or "example.com")
    digest = int(hashlib.sha256(f"{field_name}:{lead.get('id')}".encode()).hexdigest()[:8], 16)
    if field_name == "companyUrl":
        return f"https://www.{domain}"
    if field_name in ("aiLeadScore", "leadScore"):
        return digest % 101
    if field_name == "aiQualification":
        return ("qualified", "nurture", "disqualified")[digest % 3]
    who = str(lead.get("firstName") or "there")
    return f"{field_name} for {who} at {lead.get('companyName') or domain} (#{digest % 1000})"


def _plan(kind: str, body: dict[str, Any], settings: dict[str, Any] | None,
          lead: dict[str, Any], overwrite: bool) -> tuple[list[tuple[str, list[str]]], list[Any]]:
    """(triggered: [(name, fields written)], skipped names) for a trigger's body; raises
    ValueError for a body that names no known service, process or field."""
    conf = settings or {}
    if kind == "enrich":
        names = body.get("services")
        if not isinstance(names, list) or not names or \
                any(n not in ENRICH_SERVICES for n in names):
            raise ValueError(f"services must be a non-empty list of {', '.join(ENRICH_SERVICES)}")
        wanted = [(n, f"enrich:{n}", [n]) for n in dict.fromkeys(names)]
        configured = {n: bool(conf.get(n)) for n in names}
    elif kind == "copyright":
        numbers = body.get("processes")
        if not isinstance(numbers, list) or not numbers or \
                any(not isinstance(n, int) or n not in COPYRIGHT_PROCESSES for n in numbers):
            raise ValueError("processes must be a non-empty list of numbers from 1 to 10")
        wanted = [(n, f"copyright:{n}", [f"copyright{n}"]) for n in dict.fromkeys(numbers)]
        configured = {n: bool(conf.get("projectId") and conf.get(f"enrichment{n}AgentId"))
                      for n in numbers}
    else:
        names = body.get("fields")
        if not isinstance(names, list) or not names or any(n not in SDR_FIELDS for n in names):
            raise ValueError(f"fields must be a non-empty list of {', '.join(SDR_FIELDS)}")
        wanted = [(n, "sdr", [n]) for n in dict.fromkeys(names)]
        configured = {n: bool(conf.get("projectId") and conf.get(f"{n}AgentId")) for n in names}
    triggered: list[tuple[str, list[str]]] = []
    skipped: list[Any] = []
    for name, task, fields in wanted:
        filled = any(lead.get(f) not in (None, "") for f in fields)
        if not configured[name] or (filled and not overwrite):
            skipped.append(name)
        elif kind == "sdr" and triggered:  # one run for an SDR call's fields
            triggered[0][1].extend(fields)
        else:
            triggered.append((task, list(fields)))
    return triggered, skipped


def trigger_route(kind: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        state, user = request.app[STATE], CALLER.get()
        body = await json_object(request)
        lead_id = required(body, "leadId")
        overwrite = body.get("overwrite") is True
        lead = state.store.get_lead(user.company_id, lead_id)
        if lead is None:
            return failure(404, f"Lead {lead_id} not found", "not_found")
        settings_kind = {"enrich": "url", "copyright": "agent", "sdr": "sdr-ai"}[kind]
        try:
            triggered, skipped = _plan(kind, body, state.processing.settings.get(
                (user.company_id, settings_kind)), lead, overwrite)
        except ValueError as error:
            return failure(400, str(error), "invalid_value")
        state.processing.triggers[(lead_id, kind)] += 1
        state.bump(f"trigger:{kind}")
        server_now = time.time() + state.config.clock_skew_s
        tag = f"{kind}-process-{int(server_now)}-{secrets.token_hex(3)}"
        runs = [start_run(state, user, lead, task, fields, tag) for task, fields in triggered]
        names = [task.partition(":")[2] or task for task, _ in triggered]
        if kind == "copyright":
            names = [int(n) for n in names]  # type: ignore[misc]
        elif kind == "sdr":
            names = [f for _, fields in triggered for f in fields]
        return answer(200, {"success": True, "runIds": [r.id for r in runs], "batchTag": tag,
                            "triggered": names, "skipped": skipped, "leadId": lead_id})

    return handler


def start_run(state: SandboxState, user: User, lead: dict[str, Any], task: str,
              fields: list[str], tag: str) -> Run:
    low, high = state.config.run_seconds
    duration = state.chaos.rng.uniform(low, high)
    now = time.time()
    run = Run(id=f"run_{secrets.token_hex(10)}", task=task, lead_id=str(lead["id"]),
              company_id=user.company_id, batch_tag=tag, created=now,
              started=now + duration / 10, ends=now + duration,
              results={f: _result(f, lead) for f in fields},
              fails=state.chaos.keep(state.config.run_failure_rate))
    state.processing.runs[run.id] = run
    state.bump("run_started")
    asyncio.get_running_loop().call_later(duration, finish, state, run)
    return run


def finish(state: SandboxState, run: Run) -> None:
    """A run ends: its results go onto the lead (if it still exists), or it failed."""
    if run.fails or state.store.update_lead(run.company_id, run.lead_id, run.results) is None:
        run.status = "FAILED"
    else:
        run.status = "COMPLETED"
    run.finished = time.time()
    state.bump(f"run_{run.status.lower()}")


# -- tracking -----------------------------------------------------------------------------------


def shown(state: SandboxState, run: Run, now: float) -> dict[str, Any]:
    return run.record(now, skew=state.config.clock_skew_s, names=state.config.task_names)


async def task_status(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    run_id = required(request.query, "runId")
    run = state.processing.runs.get(run_id)
    if run is None or run.company_id != user.company_id:
        return failure(404, f"Run {run_id} not found", "not_found")
    state.bump("run_polled")
    return answer(200, {"success": True, "run": shown(state, run, time.time())})


async def recent_runs(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    limit = int_param(request, "limit", 20, 1, 100)
    now = time.time()
    runs = state.processing.recent(user.company_id, limit)
    return answer(200, {"success": True, "runs": [shown(state, r, now) for r in runs]})


def add_routes(router: web.UrlDispatcher) -> None:
    for kind in SETTINGS_FIELDS:
        handler = settings_route(kind)
        for method in ("GET", "POST", "PUT"):
            router.add_route(method, f"/api/settings/{kind}", handler)
    for kind in ("enrich", "copyright", "sdr"):
        router.add_post(f"/api/leads/process/{kind}", trigger_route(kind))
    router.add_get("/api/trigger-task-status", task_status)
    router.add_get("/api/trigger-recent-runs", recent_runs)
