"""The round trip: a campaign's finalized records back into a LeadGenius Pro client.

A record is matched to its lead by the key it was uploaded with when that key is a lead of the
client (an upload from `client:SLUG`), else by email. A matched lead gets the record's values
that differ from its own (never an empty one), in its Pro fields or, for what the Pro API has
no field for (industry, employees, seniority...), as notes lines ("Industry: Software"), each
line replaced rather than added again. The updates are batch PUTs, computed from a fresh
listing of the client: sending one again changes nothing, and a resumed run finds the leads
already updated unchanged. Records that match no lead are written as new leads, for the import
engine (exactly once, with its report and rejects).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ...formats.output import read_ndjson
from ...leadgenius.client import LeadGeniusClient
from ...store.db import JobDatabase
from ...store.files import atomic_write

UPDATES_A_REQUEST = 50
BACK = {"contact_first_name": "firstName", "contact_last_name": "lastName",
        "contact_email": "email", "contact_job_title": "title",
        "contact_linkedin_url": "linkedinUrl", "org_company_name": "companyName",
        "org_website": "companyUrl"}
NOTES = {"org_industry": "Industry", "org_num_employees": "Employees",
         "org_num_employees_exact": "Employees (exact)", "org_annual_revenue": "Annual revenue",
         "org_city": "City", "org_state": "State", "org_country": "Country",
         "org_street": "Street", "org_zip_code": "Zip code", "org_phone": "Company phone",
         "org_linkedin_url": "Company LinkedIn", "contact_seniority": "Seniority",
         "contact_department": "Department"}
LISTED = ["email", "notes", *BACK.values()]
ROUND_TRIP_REPORT_KEYS = ("finalized", "not_finalized", "matched_by_key", "matched_by_email",
                          "updated", "unchanged", "skipped", "new")


@dataclass
class RoundTrip:
    finalized: int = 0
    not_finalized: int = 0  # pending records: nothing to bring back yet
    matched_by_key: int = 0
    matched_by_email: int = 0
    updated: int = 0  # leads sent their changes (this job, resumed runs included)
    unchanged: int = 0
    skipped: int = 0  # matched, and --on-duplicate skip
    new: int = 0  # records no lead matched: handed to the import
    new_leads: Path | None = None

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in ROUND_TRIP_REPORT_KEYS}


def pro_values(record: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(Pro field -> value, notes label -> value) of a record's non-empty fields."""
    fields = {BACK[k]: str(v) for k, v in record.items() if k in BACK and str(v or "").strip()}
    notes = {NOTES[k]: str(v) for k, v in record.items() if k in NOTES and str(v or "").strip()}
    return fields, notes


def merged_notes(notes: str, lines: dict[str, str]) -> str:
    """The lead's notes with each "Label: value" line set: replaced where the label is
    already there, appended otherwise; other lines kept as they are."""
    kept, seen = [], set()
    for line in notes.split("\n") if notes else []:  # "\n" only: other breaks are text
        label = line.split(":", 1)[0].strip()
        if label in lines:
            kept.append(f"{label}: {lines[label]}")
            seen.add(label)
        else:
            kept.append(line)
    kept += [f"{label}: {value}" for label, value in lines.items() if label not in seen]
    return "\n".join(kept)


def changes_for(lead: dict[str, Any], record: dict[str, Any]) -> dict[str, str]:
    fields, notes = pro_values(record)
    changes = {k: v for k, v in fields.items() if str(lead.get(k) or "") != v}
    if notes:
        text = merged_notes(str(lead.get("notes") or ""), notes)
        if text != str(lead.get("notes") or ""):
            changes["notes"] = text
    return changes


def new_lead(record: dict[str, Any]) -> dict[str, str]:
    fields, notes = pro_values(record)
    if notes:
        fields["notes"] = "\n".join(f"{k}: {v}" for k, v in notes.items())
    return fields


class Leads:
    """A client's leads by id and by email (case-folded), from one listing."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        self.by_email: dict[str, str] = {}

    def add(self, lead: dict[str, Any]) -> None:
        lead_id = str(lead.get("id") or "")
        if lead_id:
            self.by_id[lead_id] = lead
            email = str(lead.get("email") or "").strip().casefold()
            if email:
                self.by_email.setdefault(email, lead_id)


async def list_client(pro: LeadGeniusClient, client: str) -> Leads:
    leads = Leads()
    async for page in pro.lead_pages(client, fields=LISTED):
        for lead in page.items:
            leads.add(lead)
    return leads


async def bring_back(pro: LeadGeniusClient, records: Path, job: JobDatabase, job_dir: Path, *,
                     client: str, lead_ids: dict[int, str], on_duplicate: str) -> RoundTrip:
    """Apply the finalized records of `records` (a download's NDJSON) to the client's leads;
    the records no lead matched, as new leads in JOB/new-leads.ndjson for the import."""
    trip = RoundTrip(updated=int(job.meta().get("updated", 0)))
    leads = await list_client(pro, client)
    batch: list[dict[str, Any]] = []
    new: list[bytes] = []

    async def send() -> None:
        await pro.update_leads(batch)
        trip.updated += len(batch)
        job.set_meta(updated=trip.updated)
        batch.clear()

    for record in read_ndjson(records):
        if not record.get("finalized"):
            trip.not_finalized += 1
            continue
        trip.finalized += 1
        key = lead_ids.get(int(record.get("id") or 0)) or str(record.get("contact_record_id")
                                                               or "")
        lead_id = key if key in leads.by_id else None
        if lead_id is not None:
            trip.matched_by_key += 1
        else:
            lead_id = leads.by_email.get(str(record.get("contact_email") or "").strip()
                                         .casefold())
            trip.matched_by_email += lead_id is not None
        if lead_id is None:
            trip.new += 1
            new.append(orjson.dumps(new_lead(record), option=orjson.OPT_APPEND_NEWLINE))
            continue
        if on_duplicate == "skip":
            trip.skipped += 1
            continue
        changes = changes_for(leads.by_id[lead_id], record)
        if not changes:
            trip.unchanged += 1
            continue
        batch.append({"id": lead_id, **changes})
        if len(batch) == UPDATES_A_REQUEST:
            await send()
    if batch:
        await send()
    if new:
        trip.new_leads = job_dir / "new-leads.ndjson"
        atomic_write(trip.new_leads, b"".join(new))
    return trip

