"""The HubSpot twin's CRM search: `POST /crm/v3/objects/contacts/search`, as HubSpot's public
docs describe it (docs/api-contract.md): filter groups (OR) of filters (AND), one sort, the
properties asked for, at most 200 a page, `after` an offset, and no page past the 10,000th
result. Archived contacts never appear; a change shows once the index has caught up
(`--hubspot-search-lag-ms`)."""

from __future__ import annotations

from typing import Any

from .store import CONTACT_COLUMNS, HubSpotStore, iso_ms, shown_contact

MAX_RESULTS = 10_000
MAX_LIMIT = 200
MAX_GROUPS, MAX_FILTERS = 5, 18
#: properties kept in their own columns (compared as numbers); the others are in the JSON
COLUMNS = {"hs_object_id": "id", "lastmodifieddate": "modified_ms", "createdate": "created_ms"}
COMPARE = {"EQ": "=", "NEQ": "!=", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}
PRESENCE = ("HAS_PROPERTY", "NOT_HAS_PROPERTY")


class SearchInvalid(Exception):
    """A request HubSpot answers 400 VALIDATION_ERROR, with its message."""


def _where(name: str, operator: str, value: Any) -> tuple[str, list[Any]]:
    if not isinstance(name, str) or not name:
        raise SearchInvalid("every filter needs a propertyName")
    column = COLUMNS.get(name)
    expression = column or f"json_extract(props, '$.\"{name.replace(chr(34), '')}\"')"
    if operator in PRESENCE:
        test = f"({expression} IS NOT NULL AND {expression} != '')"
        return (test if operator == "HAS_PROPERTY" else f"NOT {test}"), []
    if operator not in COMPARE:
        raise SearchInvalid(f"operator {operator!r} is not one this twin knows: "
                            f"{', '.join([*COMPARE, *PRESENCE])}")
    if value is None:
        raise SearchInvalid(f"the filter on {name} needs a value")
    if column is None:
        return f"{expression} {COMPARE[operator]} ?", [str(value)]
    text = str(value)
    try:
        number = int(text) if text.lstrip("-").isdigit() else iso_ms(text)
    except ValueError:
        raise SearchInvalid(f"{name}: {text!r} is not a number or a date") from None
    return f"{column} {COMPARE[operator]} ?", [number]


def search(store: HubSpotStore, body: Any, now_ms: int, page_cap: int = 0) -> dict[str, Any]:
    """One page of the search; `page_cap` (--hubspot-search-short-pages) answers at most that
    many results whatever the limit, with a `next` link: a page short of the limit is not
    the last one."""
    if not isinstance(body, dict):
        raise SearchInvalid("Invalid input JSON on line 1")
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list) or len(groups) > MAX_GROUPS:
        raise SearchInvalid(f"at most {MAX_GROUPS} filterGroups")
    clauses, args = [], []
    filters = 0
    for group in groups:
        parts = []
        for f in (group or {}).get("filters") or []:
            filters += 1
            sql, values = _where(f.get("propertyName"), f.get("operator", "EQ"), f.get("value"))
            parts.append(sql)
            args += values
        if parts:
            clauses.append("(" + " AND ".join(parts) + ")")
    if filters > MAX_FILTERS:
        raise SearchInvalid(f"at most {MAX_FILTERS} filters in all")
    try:
        limit = int(body.get("limit") or 10)
        after = int(body.get("after") or 0)
    except (TypeError, ValueError):
        raise SearchInvalid("limit and after must be whole numbers") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchInvalid(f"limit must be between 1 and {MAX_LIMIT}")
    if after >= MAX_RESULTS or after < 0:
        raise SearchInvalid(f"the search returns at most {MAX_RESULTS} results: after={after} "
                            "is past them")
    order = "id ASC"
    sorts = body.get("sorts") or []
    if sorts:
        sort = sorts[0] if isinstance(sorts[0], dict) else {"propertyName": str(sorts[0])}
        name = str(sort.get("propertyName") or "")
        column = COLUMNS.get(name) or f"json_extract(props, '$.\"{name.replace(chr(34), '')}\"')"
        direction = "DESC" if str(sort.get("direction", "")).upper() == "DESCENDING" else "ASC"
        order = f"{column} {direction}, id ASC"
    where = "archived_at IS NULL AND indexed_ms <= ?" + (
        " AND (" + " OR ".join(clauses) + ")" if clauses else "")
    total = int(store.db.execute(f"SELECT count(*) FROM hs_contacts WHERE {where}",
                                 [now_ms, *args]).fetchone()[0])
    rows = store.db.execute(
        f"SELECT {CONTACT_COLUMNS} FROM hs_contacts WHERE {where} ORDER BY {order} "
        f"LIMIT ? OFFSET ?", [now_ms, *args, min(limit, page_cap or limit), after]).fetchall()
    properties = [str(p) for p in body.get("properties") or ()] or [
        "firstname", "lastname", "email"]
    answer: dict[str, Any] = {"total": total,
                              "results": [shown_contact(r, properties, False) for r in rows]}
    if after + len(rows) < total:
        answer["paging"] = {"next": {"after": str(after + len(rows))}}
    return answer
