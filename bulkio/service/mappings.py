"""The LeadVibe import request, translated for bulkio: `primary_identifier`,
`field_mappings` (LeadVibe's snake_case profile fields read through bulkio's own synonyms
table, `formats.mapping`; city, country and industry, which LeadGenius has no field for, go to
notes as `City: value`) and `alias_mappings` (no LeadGenius equivalent either: their columns
go to notes as `Alias (kind): value`). Every choice is said in the job's notices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..formats.mapping import field_named
from ..ops.imports.job import ImportOptions

KINDS = ("email", "phone", "cookie", "external_id", "social")
#: LeadVibe profile fields that LeadGenius has no field for: their columns go to notes.
NOTES_ONLY = {"city": "City", "country": "Country", "industry": "Industry"}
ALIAS_KINDS = {"_alias_email": "email", "_alias_phone": "phone", "_alias_cookie": "cookie",
               "_alias_external_id": "external_id", "_alias_social": "social"}


class BadRequest(ValueError):
    """A 400, with the reason."""


@dataclass
class ImportPlan:
    mapping: dict[str, str | None]  # column -> LeadGenius field (None: not imported)
    notes_columns: dict[str, str] = field(default_factory=dict)  # alias column -> notes label
    notices: list[str] = field(default_factory=list)
    allow_no_email: bool = False  # rows without an email imported too (a checkbox on the page)

    def options(self) -> ImportOptions:
        """What an import of this plan reads the rows with (the preview's, the summary's)."""
        return ImportOptions(mapping_data=self.mapping, notes_columns=self.notes_columns,
                             allow_no_email=self.allow_no_email)


def plan_import(body: dict[str, Any], headers: list[str],
                suggested: dict[str, str | None]) -> ImportPlan:
    """The column map for bulkio from a start request; BadRequest for what cannot be done."""
    primary = body.get("primary_identifier")
    if not isinstance(primary, dict) or not primary.get("column") or not primary.get("kind"):
        raise BadRequest("primary_identifier with `column` and `kind` is required")
    kind, column = str(primary["kind"]), str(primary["column"])
    if kind not in KINDS:
        raise BadRequest(f"primary_identifier.kind must be one of {', '.join(KINDS)}")
    if kind != "email":
        raise BadRequest(f"primary_identifier.kind {kind!r} is not possible here: LeadGenius "
                         "finds a lead by its email, so the primary identifier must be an "
                         "email column")
    if column not in headers:
        raise BadRequest(f"primary_identifier.column {column!r} is not a column of the file")
    fields = body.get("field_mappings")
    aliases = body.get("alias_mappings") or {}
    if fields is not None and not isinstance(fields, dict):
        raise BadRequest("field_mappings must map column names to fields")
    if not isinstance(aliases, dict):
        raise BadRequest("alias_mappings must map column names to _alias_ keys")
    plan = ImportPlan(mapping={h: None for h in headers},
                      allow_no_email=body.get("allow_no_email") is True)
    if fields is None:  # bulkio's own mapping, as `bulkio import` would do
        plan.mapping.update({h: t for h, t in suggested.items() if t != "email"})
        plan.notices.append("no field_mappings: columns mapped by bulkio from their names")
    else:
        for source, target in fields.items():
            if source not in headers:
                raise BadRequest(f"field_mappings names {source!r}, not a column of the file")
            mapped = field_named(target) if isinstance(target, str) else None
            notes_label = NOTES_ONLY.get(target.strip().lower()) if isinstance(target, str) else None
            if notes_label is not None:
                plan.notes_columns[source] = notes_label
                plan.notices.append(f"field_mappings: LeadGenius has no {target!r} field; column "
                                    f"{source!r} goes to notes as `{notes_label}: value`")
            elif mapped is None:
                plan.notices.append(f"field_mappings: {target!r} is not a lead field; column "
                                    f"{source!r} ignored")
            elif mapped != "email":
                plan.mapping[source] = mapped
    for source, key in aliases.items():
        if source not in headers:
            raise BadRequest(f"alias_mappings names {source!r}, not a column of the file")
        alias = ALIAS_KINDS.get(str(key))
        if alias is None:
            raise BadRequest(f"alias_mappings: {key!r} is not one of {', '.join(ALIAS_KINDS)}")
        plan.notes_columns[source] = f"Alias ({alias})"
    if aliases:
        plan.notices.append("alias_mappings have no LeadGenius equivalent: their columns are "
                            "appended to notes as `Alias (kind): value`")
    for source in plan.notes_columns:
        plan.mapping[source] = None  # a notes line, never a field
    plan.mapping[column] = "email"  # the identifier feeds the email, whatever else says
    plan.notes_columns.pop(column, None)
    return plan
