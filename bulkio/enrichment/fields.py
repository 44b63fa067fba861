"""The legacy enrichment API's fields, and which a file's column means: the API's own names
(`org_company_name`), the usual header names, and the Pro API's lead fields (companyName ->
org_company_name, email -> contact_email...), so a file or a client's leads map alike."""

from __future__ import annotations

from ..formats.mapping import auto_field, header_key

# The documented lists, as the client reads them (the sandbox's twin keeps its own copy: a
# misreading of the documentation cannot hide on both sides).
ORG_FIELDS = ("org_city", "org_linkedin_url", "org_company_name", "org_phone", "org_country",
              "org_num_employees", "org_num_employees_exact", "org_industry",
              "org_annual_revenue", "org_state", "org_street", "org_website", "org_zip_code",
              "org_record_id")
CONTACT_FIELDS = ("contact_linkedin_url", "contact_department", "contact_email",
                  "contact_first_name", "contact_job_title", "contact_last_name",
                  "contact_seniority", "contact_record_id")
FIELDS = frozenset(ORG_FIELDS + CONTACT_FIELDS)
#: what the exclusion list takes, by entity
EXCLUSION_FIELDS = {"org": ("org_linkedin_url", "org_company_name", "org_phone", "org_website"),
                    "contact": ("contact_linkedin_url", "contact_email", "contact_first_name",
                                "contact_last_name", "org_linkedin_url", "org_company_name",
                                "org_phone", "org_website")}
#: what an excluded record is matched by, by entity
EXCLUSION_KEYS = {"contact": ("contact_email", "contact_linkedin_url"),
                  "org": ("org_website", "org_linkedin_url")}
PRO_FIELDS = {"firstName": "contact_first_name", "lastName": "contact_last_name",
              "email": "contact_email", "title": "contact_job_title",
              "linkedinUrl": "contact_linkedin_url", "companyName": "org_company_name",
              "companyUrl": "org_website", "companyDomain": "org_website"}
HEADERS = {  # header keys (formats.mapping.header_key) the Pro fields do not cover
    "companylinkedin": "org_linkedin_url", "companylinkedinurl": "org_linkedin_url",
    "orglinkedin": "org_linkedin_url", "companyphone": "org_phone", "mainphone": "org_phone",
    "industry": "org_industry", "city": "org_city", "country": "org_country",
    "state": "org_state", "province": "org_state", "zip": "org_zip_code",
    "zipcode": "org_zip_code", "postalcode": "org_zip_code", "street": "org_street",
    "address": "org_street", "employees": "org_num_employees", "revenue": "org_annual_revenue",
    "department": "contact_department", "seniority": "contact_seniority"}


def legacy_field(column: str) -> str | None:
    """The legacy field a column means, or None."""
    if column in FIELDS:
        return column
    key = header_key(column)
    if key in HEADERS:
        return HEADERS[key]
    return PRO_FIELDS.get(auto_field(column) or "")


def kind_of(record: dict[str, str]) -> str | None:
    """What a record is: "contact" (a non-empty contact_* field other than its record id),
    "org" (the same with org_*), "lead" (both), or None (neither)."""
    contact = any(v for k, v in record.items()
                  if k.startswith("contact_") and k != "contact_record_id")
    org = any(v for k, v in record.items() if k.startswith("org_") and k != "org_record_id")
    return "lead" if contact and org else "contact" if contact else "org" if org else None


def key_field(kind: str) -> str:
    """Where a record's stable key is kept: contacts and leads by contact, accounts by org."""
    return "org_record_id" if kind == "org" else "contact_record_id"


def missing_identifier(record: dict[str, str], kind: str) -> str | None:
    """The identifier rule a record breaks (the documentation's), or None."""
    def filled(*names: str) -> bool:
        return any(str(record.get(n) or "").strip() for n in names)

    if kind in ("contact", "lead") and not filled("contact_last_name", "contact_email"):
        return (f"a {'lead' if kind == 'lead' else 'contact'} needs contact_last_name or "
                "contact_email")
    if kind in ("org", "lead") and not filled("org_company_name", "org_website"):
        return (f"{'a lead' if kind == 'lead' else 'an account'} needs org_company_name or "
                "org_website")
    return None
