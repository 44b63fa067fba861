"""The sandbox's lead routes: the JWT lead list, the single and batch POST with every quirk of
the API's documentation, the batch PUT, single and batch DELETE, and the API-key bulk lists."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
from aiohttp import web

from . import processing
from .replies import answer, failure, int_param, json_object, raw_answer, required
from .state import CALLER, STATE, Handler, SandboxState
from .store import ENRICH, SOURCE, CursorInvalid, User, new_lead

# Fields the lead schema knows. Anything else (e.g. `phone`) fails the single-lead POST,
# as a GraphQL-backed create does: that is the mechanism behind the documented `phone` bug.
LEAD_FIELDS = frozenset("""
client_id firstName lastName fullName email phoneNumber title companyName companyDomain companyUrl
linkedinUrl city country industry notes source status aiLeadScore aiQualification aiJustification
aiRecommendations aiSdrSynthesis leadScore
""".split()) | processing.RESULT_FIELDS
CREATE_FAILED = "Failed to create lead - no data returned"
MAX_BATCH_DELETE = 50


# -- leads --------------------------------------------------------------------------------------


def lead_problem(lead: Any, creating: bool) -> str | None:
    """Why the single-lead POST (or an update) would fail; None if it is acceptable."""
    if not isinstance(lead, dict):
        return "a lead must be a JSON object"
    for key, value in lead.items():
        if key == "id" and not creating:
            continue
        if key not in LEAD_FIELDS:
            return f"unknown field {key!r}"
        if isinstance(value, (dict, list)):
            return f"field {key!r} must be a scalar"
        if value == "" and creating:  # a PUT's "" clears the field
            return f"field {key!r} is an empty string"
    if creating:
        if not isinstance(lead.get("client_id"), str) or not lead["client_id"]:
            return "client_id is required"
        for name in ("firstName", "lastName"):
            value = lead.get(name)
            if not isinstance(value, str) or not value.strip():
                return f"{name} is required"
    last = lead.get("lastName")
    if isinstance(last, str) and len(last.strip()) == 1 and not last.strip().isalnum() \
            and last.strip() != "-":
        return "lastName cannot be a lone punctuation mark"
    return None


async def get_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    client_id = required(request.query, "client_id")
    limit = int_param(request, "limit", 100, 1, 1000)
    token = request.query.get("nextToken") or request.query.get("lastKey")
    try:
        page = state.store.page(ENRICH, user.company_id, client_id, limit, token)
    except CursorInvalid:
        return failure(400, "Invalid pagination token", "invalid_value")
    # The documented bug: `total` is the size of this page, not the client's lead count.
    return raw_answer(200, '{"success":true,"leads":[' + ",".join(page.items_json)
                      + f'],"total":{len(page.items_json)},"{state.config.cursor_name}":'
                      + orjson.dumps(page.next_token).decode() + "}")


async def post_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    body = await json_object(request)
    if isinstance(body.get("leads"), list):
        return batch_create(state, user, body["leads"])
    problem = lead_problem(body, creating=True)
    if problem:
        # Faithful to production: the answer does not say which rule was broken.
        state.bump(f"create_failed:{problem}")
        return failure(500, CREATE_FAILED, "internal_error")
    fields = {k: v for k, v in body.items() if v is not None}
    if not state.chaos.keep(state.config.single_persist):
        # Rehearsal knob: a 201 for a lead that is not stored, to exercise verification.
        state.bump("single_not_persisted")
        return answer(201, {"success": True, "lead": {"id": f"lead-{uuid.uuid4()}", **fields}})
    lead = new_lead(user.company_id, user.id, fields)
    lag = state.chaos.listing_lag()
    if lag:  # stored (listed) late: after the 201, after a listing may have said it is not there
        state.bump("store_late_scheduled")
        asyncio.get_running_loop().call_later(lag, store_late, state, lead)
    else:
        state.store.put_lead(lead)
    return answer(201, {"success": True, "lead": lead})


def store_late(state: SandboxState, lead: dict[str, Any]) -> None:
    state.store.put_lead(lead)
    state.bump("stored_late")


def batch_create(state: SandboxState, user: User, leads: list[Any]) -> web.Response:
    """The batch POST bug: counts every valid lead as created, and stores the ones the dice
    keep (--batch-persist, --batch-drop-mode), after --batch-persist-delay-ms if set."""
    valid, skipped = [], []
    for index, lead in enumerate(leads):
        problem = lead_problem(lead, creating=True)
        if problem:
            skipped.append({"index": index, "reason": problem})
        else:
            valid.append({k: v for k, v in lead.items() if v is not None})
    kept = [valid[i] for i in state.chaos.batch_kept(len(valid))]
    state.counts["batch_leads_dropped"] += len(valid) - len(kept)

    def store() -> None:
        for fields in kept:
            state.store.insert_lead(user.company_id, user.id, fields)
        state.bump("batch_stored")

    delay = state.chaos.batch_delay() + state.chaos.listing_lag() if kept else 0.0
    if delay:  # stored late: after the 201, after a listing may have said it is not there
        asyncio.get_running_loop().call_later(delay, store)
    else:
        store()
    return answer(201, {"success": True, "created": len(valid), "skipped": skipped})


async def put_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    body = await json_object(request)
    if isinstance(body.get("leads"), list):
        updated = 0
        for item in body["leads"]:
            if isinstance(item, dict) and isinstance(item.get("id"), str) \
                    and lead_problem(item, creating=False) is None \
                    and state.store.update_lead(user.company_id, item["id"], item) is not None:
                updated += 1
        return answer(200, {"success": True, "updated": updated})
    lead_id = required(body, "id")
    problem = lead_problem(body, creating=False)
    if problem:
        return failure(400, f"Invalid update: {problem}", "invalid_value")
    lead = state.store.update_lead(user.company_id, lead_id, body)
    if lead is None:
        return failure(404, f"Lead {lead_id} not found", "not_found")
    return answer(200, {"success": True, "lead": lead})


async def delete_leads(request: web.Request) -> web.Response:
    state, user = request.app[STATE], CALLER.get()
    lead_id = request.query.get("id")
    if lead_id:
        if state.store.delete_leads(user.company_id, [lead_id]) == 0:
            return failure(404, f"Lead {lead_id} not found", "not_found")
        return answer(200, {"success": True})
    body = await json_object(request)
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return failure(400, "ids must be a non-empty list of lead ids", "missing_required_field")
    if len(ids) > MAX_BATCH_DELETE:
        return failure(400, f"At most {MAX_BATCH_DELETE} ids per request", "invalid_value")
    # Quirk: `deleted` can be lower than the ids sent; with the knob, some are silently kept.
    doomed = [i for i in ids if not state.chaos.keep(state.config.batch_delete_drop)]
    deleted = state.store.delete_leads(user.company_id, doomed)
    state.bump("batch_delete_done")  # for tests: counted once the work is done, not on arrival
    return answer(200, {"success": True, "deleted": deleted})


# -- bulk extraction (API key) ------------------------------------------------------------------


def bulk_list(kind: int) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        state, user = request.app[STATE], CALLER.get()
        company_id = required(request.query, "companyId")
        if company_id != user.company_id:
            return failure(403, "companyId does not belong to this identity",
                           "insufficient_permissions")
        client = request.query.get("clientId") or None
        if client is not None and client.upper() in ("ALL", "DEFAULT"):
            client = None
        limit = int_param(request, "limit", 1000, 1, 5000)
        fields = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
        bad = [f for f in fields if not state.store.valid_field_name(f)]
        if bad:
            return failure(400, f"Invalid field name {bad[0]!r}", "invalid_value")
        token = request.query.get("nextToken") or None
        # Quirk knob: a server that repeats a record across pages (clients must drop it).
        repeat = bool(token) and not state.chaos.keep(1.0 - state.config.page_repeat)
        if repeat:
            state.bump("page_repeated")
        try:
            page = state.store.page(kind, company_id, client, limit, token, fields or None,
                                    repeat_last=repeat)
        except CursorInvalid:
            return failure(400, "Invalid nextToken", "invalid_value")
        inner = ('"items":[' + ",".join(page.items_json) + '],"nextToken":'
                 + orjson.dumps(page.next_token).decode())
        if state.config.envelope == "wrapped":
            return raw_answer(200, '{"success":true,"data":{' + inner + "}}")
        return raw_answer(200, '{"success":true,' + inner + "}")

    return handler


def add_routes(r: web.UrlDispatcher) -> None:
    r.add_get("/api/leads", get_leads)
    r.add_post("/api/leads", post_leads)
    r.add_put("/api/leads", put_leads)
    r.add_delete("/api/leads", delete_leads)
    r.add_get("/api/enrich-leads/list", bulk_list(ENRICH))
    r.add_get("/api/source-leads/list", bulk_list(SOURCE))
