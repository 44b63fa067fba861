"""The legacy enrichment API's fields and the rules an upload is checked by, with the error
bodies the documentation shows (`{"type": ["This field is required."]}`) and, where it is
silent, the ones docs/api-contract.md decides (`{"records": ["At most 200 records a
request."]}`)."""

from __future__ import annotations

import re
from typing import Any

TYPES = ("datahub", "single_field", "enrichment", "contact_append")
ORG_FIELDS = ("org_city", "org_linkedin_url", "org_company_name", "org_phone", "org_country",
              "org_num_employees", "org_num_employees_exact", "org_industry",
              "org_annual_revenue", "org_state", "org_street", "org_website", "org_zip_code",
              "org_record_id")
CONTACT_FIELDS = ("contact_linkedin_url", "contact_department", "contact_email",
                  "contact_first_name", "contact_job_title", "contact_last_name",
                  "contact_seniority", "contact_record_id")
STANDARD = frozenset(ORG_FIELDS + CONTACT_FIELDS)
IDENTIFIERS = {"contact_last_name", "contact_email", "org_company_name", "org_website",
               "org_record_id", "contact_record_id"}
EXCLUSION_FIELDS = {"org": {"entity", "org_linkedin_url", "org_company_name", "org_phone",
                            "org_website"},
                    "contact": {"entity", "contact_linkedin_url", "contact_email",
                                "contact_first_name", "contact_last_name", "org_linkedin_url",
                                "org_company_name", "org_phone", "org_website"}}
MAX_RECORDS = 200
SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
REQUIRED = ["This field is required."]


class Invalid(Exception):
    """A 400 with the body the API answers."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.body = body


def kinds(record: dict[str, Any]) -> tuple[bool, bool]:
    """(is a contact, is an account): a non-empty field of that kind, its record id aside."""
    contact = any(v not in (None, "") for k, v in record.items()
                  if k.startswith("contact_") and k != "contact_record_id")
    org = any(v not in (None, "") for k, v in record.items()
              if k.startswith("org_") and k != "org_record_id")
    return contact, org


def _filled(record: dict[str, Any], *names: str) -> bool:
    return any(str(record.get(n) or "").strip() for n in names)


def check_upload(body: Any, campaign_type: str | None, custom: frozenset[str] = frozenset()
                 ) -> tuple[str, str, list[str], list[dict[str, Any]]]:
    """(slug, type, fields, records) of a valid upload; Invalid otherwise."""
    if not isinstance(body, dict):
        raise Invalid({"detail": "JSON parse error - Expected an object."})
    errors: dict[str, list[str]] = {}
    slug, kind, records = body.get("slug"), body.get("type"), body.get("records")
    if not slug:
        errors["slug"] = REQUIRED
    elif not isinstance(slug, str) or not SLUG.match(slug):
        errors["slug"] = ['Enter a valid "slug" consisting of letters, numbers, underscores or '
                          'hyphens.']
    if not kind:
        errors["type"] = REQUIRED
    elif kind not in TYPES:
        errors["type"] = [f'"{kind}" is not a valid choice.']
    elif campaign_type is not None and kind != campaign_type:
        errors["type"] = [f"Records added to an existing job must use its type "
                          f"({campaign_type}), not {kind}."]
    if records is None:
        errors["records"] = REQUIRED
    elif not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        errors["records"] = ["Expected a list of objects."]
    elif not records:
        errors["records"] = ["This list may not be empty."]
    elif len(records) > MAX_RECORDS:
        errors["records"] = [f"At most {MAX_RECORDS} records a request."]
    fields = body.get("fields") or []
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        errors["fields"] = ["Expected a list of field names."]
        fields = []
    if errors or not isinstance(records, list):
        raise Invalid(errors)
    allowed = STANDARD | custom
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise Invalid({"fields": [f'Unknown field "{unknown[0]}".']})
    if kind == "single_field":
        others = [f for f in fields if f not in IDENTIFIERS]
        if len(others) != 1:
            raise Invalid({"fields": [f"single_field type requires 1 field. Passed "
                                      f"{len(others)}"]})
    for index, record in enumerate(records):
        wrong = next((k for k in record if k not in allowed), None)
        if wrong is not None:
            raise Invalid({"records": [f'Record {index}: unknown field "{wrong}".']})
        contact, org = kinds(record)
        if not contact and not org:
            raise Invalid({"records": [f"Record {index}: no contact or company field."]})
        if contact and not _filled(record, "contact_last_name", "contact_email"):
            raise Invalid({"records": [f"Record {index}: a contact needs contact_last_name or "
                                       "contact_email."]})
        if org and not _filled(record, "org_company_name", "org_website"):
            raise Invalid({"records": [f"Record {index}: a company needs org_company_name or "
                                       "org_website."]})
    return str(slug), str(kind), list(fields), records


def check_exclusions(body: Any) -> list[dict[str, Any]]:
    """The records of a valid exclusion upload; Invalid otherwise."""
    records = body.get("records") if isinstance(body, dict) else None
    if records is None:
        raise Invalid({"records": REQUIRED})
    if not isinstance(records, list) or not records or len(records) > MAX_RECORDS:
        raise Invalid({"records": [f"Between 1 and {MAX_RECORDS} records a request."]})
    for index, record in enumerate(records):
        entity = record.get("entity") if isinstance(record, dict) else None
        if entity not in EXCLUSION_FIELDS:
            raise Invalid({"records": [f'Record {index}: entity must be "contact" or "org".']})
        wrong = next((k for k in record if k not in EXCLUSION_FIELDS[entity]), None)
        if wrong is not None:
            raise Invalid({"records": [f'Record {index}: unknown field "{wrong}".']})
        needs = (("contact_linkedin_url", "contact_email") if entity == "contact"
                 else ("org_linkedin_url", "org_website"))
        if not _filled(record, *needs):
            raise Invalid({"records": [f"Record {index}: an excluded {entity} needs "
                                       f"{needs[0]} or {needs[1]}."]})
    return list(records)
