"""Which input column feeds which lead field.

Automatic: a header matches a field when its *key* (lower case, letters and digits only, a
trailing number dropped: "E-mail 1" -> "email") is one of the field's synonyms. Several columns
may feed one field ("Email 1", "Email 2"): the first non-empty value wins, in column order.
`--mapping FILE.json` overrides: {"Column": "field"} or {"Column": null} to drop a column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..errors import SourceError

#: Fields the LeadGenius API is known to store (the seeds), with the headers people use.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "firstName": ("firstname", "first", "givenname", "forename", "fname", "prenom"),
    "lastName": ("lastname", "last", "surname", "familyname", "lname", "nom"),
    "email": ("email", "emailaddress", "mail", "workemail", "businessemail", "emailaddr"),
    "phoneNumber": ("phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "telephone",
                    "tel", "cell", "cellphone", "workphone", "directphone", "phoneno"),
    "companyName": ("company", "companyname", "organization", "organisation", "org", "account",
                    "accountname", "employer", "business"),
    "companyDomain": ("domain", "companydomain", "emaildomain"),
    "companyUrl": ("website", "companyurl", "companywebsite", "url", "web", "site", "homepage"),
    "title": ("title", "jobtitle", "position", "role", "designation", "headline"),
    "linkedinUrl": ("linkedin", "linkedinurl", "linkedinprofile", "linkedinprofileurl",
                    "liprofile"),
    "notes": ("notes", "note", "comments", "comment", "description"),
    "aiLeadScore": ("aileadscore", "leadscore", "score"),
    "aiQualification": ("aiqualification", "qualification"),
}
#: Read to derive first and last names, never sent as such.
DERIVED = {"fullName": ("fullname", "name", "contactname", "contact", "displayname")}
FIELDS = frozenset(SYNONYMS)
_KEY = re.compile(r"[^0-9a-z]+")
_TRAILING_NUMBER = re.compile(r"\d+$")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_LOOKUP = {syn: name for table in (SYNONYMS, DERIVED) for name, syns in table.items() for syn in syns}


def header_key(header: str) -> str:
    """'  E-mail Address ' -> 'emailaddress'; 'Phone 1' -> 'phone1'."""
    return _KEY.sub("", header.lower())


def auto_field(header: str) -> str | None:
    """The lead field a header name means, or None."""
    key = header_key(header)
    if key in _LOOKUP:
        return _LOOKUP[key]
    return _LOOKUP.get(_TRAILING_NUMBER.sub("", key))


@dataclass
class ColumnMap:
    """Column -> field decisions for one import."""

    overrides: dict[str, str | None] = field(default_factory=dict)
    decided: dict[str, str | None] = field(default_factory=dict)

    def field_for(self, column: str) -> str | None:
        """The field a column feeds (None: not imported). Decided once per column name."""
        try:
            return self.decided[column]
        except KeyError:
            pass
        if column in self.overrides:
            target = self.overrides[column]
        elif column.strip().lower() in ("client_id", "clientid"):
            target = None  # the client always comes from --client, never from the file
        else:
            target = auto_field(column)
        self.decided[column] = target
        return target

    def plan(self, columns: Iterable[str]) -> dict[str, list[str]]:
        """field -> its columns, in column order."""
        plan: dict[str, list[str]] = {}
        for column in columns:
            target = self.field_for(column)
            if target:
                plan.setdefault(target, []).append(column)
        return plan

    def unmapped(self, columns: Iterable[str]) -> list[str]:
        return [c for c in columns if self.field_for(c) is None]

    def check_columns(self, columns: Iterable[str]) -> None:
        """Overrides must name real columns (CSV: known from the header)."""
        known = set(columns)
        missing = [c for c in self.overrides if c not in known]
        if missing:
            raise SourceError(f"the mapping names {', '.join(map(repr, missing))}, which the file "
                              f"does not have; its columns are: {', '.join(map(repr, known))}")


def load_mapping(path: str | None) -> ColumnMap:
    """The --mapping file: a JSON object of column -> field name or null."""
    if not path:
        return ColumnMap()
    try:
        data = orjson.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise SourceError(f"no such mapping file: {path}") from None
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"the mapping file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError(f"the mapping file {path} must be a JSON object of column -> field")
    overrides: dict[str, str | None] = {}
    for column, target in data.items():
        if target is not None and (not isinstance(target, str) or not _FIELD_NAME.match(target)):
            raise SourceError(f"mapping {column!r}: the field must be a name like \"title\" or "
                              f"null, not {target!r}")
        if target in ("client_id", "id"):
            raise SourceError(f"mapping {column!r}: {target} cannot come from the file "
                              "(the client is --client)")
        overrides[column] = target
    return ColumnMap(overrides)


def describe(mapping: ColumnMap, columns: Iterable[str]) -> Mapping[str, str | None]:
    """column -> field for display (dry run, summaries)."""
    return {c: mapping.field_for(c) for c in columns}
