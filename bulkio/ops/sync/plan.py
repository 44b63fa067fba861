"""What a run does for each contact in its journal, decided before anything is sent.

A changed contact is mapped as the import maps it; then, against what the state knows:
- no lead yet (new, never importable before, or its lead deleted by --archived delete):
  `create`, through the import engine;
- a lead: `update` with the fields that differ from what was last sent to it (a field HubSpot
  emptied only with --clear-emptied), or `unchanged` when none does (a change to a property
  bulkio does not map);
- its lead deleted in LeadGenius (`gone`): `create` when a mapped field changed, else nothing;
- not a lead at all (no email...): `reject`, with the import's reason.
An archived contact, or one merged into another, with a lead: `archive` (what --archived says).
"""

from __future__ import annotations

from typing import Any

from ...formats.sanitize import LeadBuilder
from ...store.sync_state import Change, Known


def differing(payload: dict[str, str], sent: dict[str, str], *, clear_emptied: bool
              ) -> dict[str, str]:
    """The fields to PUT: those whose value is not what was last sent; with `clear_emptied`,
    those sent once and now empty, as "" (a PUT's "" clears)."""
    fields = {k: v for k, v in payload.items() if k != "client_id" and sent.get(k) != v}
    if clear_emptied:
        fields.update({k: "" for k, v in sent.items()
                       if k not in payload and k != "client_id" and v != ""})
    return fields


def after_update(sent: dict[str, str], fields: dict[str, str]) -> dict[str, str]:
    """What the lead was sent, once `fields` are."""
    merged = {**sent, **fields}
    return {k: v for k, v in merged.items() if v != ""}


def decide(change: Change, known: Known | None, builder: LeadBuilder, *, clear_emptied: bool
           ) -> tuple[str, dict[str, Any] | None, str | None]:
    """(action, fields to send or the payload to create, reason) for one change."""
    if change.kind != "changed":
        if known is not None and known.state == "live" and known.lead_id:
            return "archive", None, None
        return "none", None, None
    built = builder.build(change.raw or {})
    if built.error is not None or built.payload is None:
        return "reject", None, built.error or "not a lead"
    payload = {k: v for k, v in built.payload.items() if k != "client_id"}
    if known is None or not known.lead_id or known.state in ("rejected", "deleted"):
        return "create", payload, None
    if known.state == "gone":
        return ("create", payload, None) if differing(payload, known.sent, clear_emptied=False) \
            else ("unchanged", None, "its lead was deleted in LeadGenius")
    fields = differing(payload, known.sent, clear_emptied=clear_emptied)
    return ("update", fields, None) if fields else ("unchanged", None, None)
