"""A source row made a campaign record: its columns mapped to the legacy API's fields, its
kind (contact, account, lead), the identifier rules checked, and its stable key.

The key is what finds a record again in the campaign after a lost answer: the user's own
`contact_record_id` (contacts and leads) or `org_record_id` (accounts) when the row has one,
else bulkio's, written into that field: the Pro lead's id for a client's leads, the job's tag
and the row number for a file's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...enrichment.fields import FIELDS, key_field, kind_of, legacy_field, missing_identifier
from ...errors import SourceError
from ...formats.mapping import read_mapping_file

SCALARS = (str, int, float, bool)


@dataclass
class RecordMaker:
    """Column -> field decisions for one upload, and what was decided for the user."""

    overrides: dict[str, str | None] = field(default_factory=dict)  # --mapping
    allowed: frozenset[str] = frozenset()  # --allow-field: the campaign's own fields
    decided: dict[str, str | None] = field(default_factory=dict)
    not_sent: list[str] = field(default_factory=list)  # columns named once, never sent
    refused: list[str] = field(default_factory=list)  # look like fields the API does not take

    def field_for(self, column: str) -> str | None:
        try:
            return self.decided[column]
        except KeyError:
            pass
        if column in self.overrides:
            target = self.overrides[column]
        elif column in self.allowed:
            target = column
        else:
            target = legacy_field(column)
            if target is None and column.startswith(("org_", "contact_")):
                self.refused.append(column)
        if target is None and column not in self.refused:
            self.not_sent.append(column)
        self.decided[column] = target
        return target

    def shared(self) -> dict[str, list[str]]:
        """field -> its columns, for the fields more than one column feeds."""
        columns: dict[str, list[str]] = {}
        for column, name in self.decided.items():
            if name is not None:
                columns.setdefault(name, []).append(column)
        return {name: cs for name, cs in columns.items() if len(cs) > 1}

    def make(self, values: dict[str, Any], key: str) -> tuple[str, str, dict[str, Any]] | str:
        """(key, kind, record) of a row's values, or the reason it cannot be uploaded."""
        record: dict[str, Any] = {}
        for column, value in values.items():
            name = self.field_for(column)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if name is None:
                if column in self.refused:
                    return (f"{column} is not a field the enrichment API takes (if the "
                            f"campaign defines it, add --allow-field {column})")
                continue
            if not isinstance(value, SCALARS):
                return f"{column} holds a {type(value).__name__}, not a value"
            record.setdefault(name, value)  # the first column with a value gives the field
        kind = kind_of(record)
        if kind is None:
            return ("no contact or company field with a value (a contact needs "
                    "contact_last_name or contact_email, an account org_company_name or "
                    "org_website)")
        problem = missing_identifier(record, kind)
        if problem:
            return problem
        own = record.get(key_field(kind))
        if own not in (None, ""):
            return str(own), kind, record
        record[key_field(kind)] = key
        return key, kind, record


def load_record_maker(path: Path | None, allowed: tuple[str, ...]) -> RecordMaker:
    """The --mapping file (column -> legacy field name or null) and the --allow-field names."""
    custom = frozenset(allowed)
    for name in custom:
        if name in FIELDS:
            raise SourceError(f"--allow-field {name}: it is a standard field already")
    if path is None:
        return RecordMaker(allowed=custom)
    data = read_mapping_file(path)
    for column, target in data.items():
        if target is not None and target not in FIELDS and target not in custom:
            raise SourceError(f"mapping {column!r}: {target!r} is not a field the enrichment "
                              "API takes (org_... or contact_..., or a campaign's own field "
                              "given with --allow-field)")
    return RecordMaker(overrides=dict(data), allowed=custom)
