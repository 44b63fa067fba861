"""Turning one input record into a lead payload that the API will store.

The API's payload rules (each broken one is a 500), applied to every payload before it is sent:
- no empty or whitespace-only value is sent (an empty string is a 500); values are trimmed;
- the phone field is `phoneNumber` (the mapping sees to that: `phone` is a 500);
- a missing first or last name is derived from the email's local part, a last name that is
  not a name (".", "-", "?") becomes "-" (a lone "." is a 500);
- `client_id` is always the slug given to the builder, whatever the file says;
- a row without a valid email is rejected (unless allowed).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .mapping import INTERNAL, ColumnMap

EMAIL = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\].]+$")
LAST_NAME_FALLBACK = "-"
_NAME_PARTS = re.compile(r"[._\-+]+")
_ALNUM = re.compile(r"[^\W_]")  # a letter or a digit, in any script


@dataclass(frozen=True, slots=True)
class Built:
    """A payload ready to send, or the reason the row cannot be imported."""

    payload: dict[str, str] | None
    email_key: str | None  # lower-cased email, the duplicate key
    error: str | None = None
    derived: frozenset[str] = frozenset()  # fields bulkio filled in (names, domain, url)
    spare: tuple[str, ...] = ()  # columns whose value lost to an earlier column's for its field
    nul: tuple[str, ...] = ()  # columns whose value held NUL bytes, removed (said, not silent)
    typed_email: str | None = None  # an email refused as not one, as typed (for email checks)

    def changes(self) -> dict[str, str]:
        """What an update may send: the row's own non-empty values, nothing derived."""
        assert self.payload is not None
        return {k: v for k, v in self.payload.items()
                if k != "client_id" and k not in self.derived}


def clean(value: Any) -> str | None:
    """A trimmed string, or None for empty, whitespace-only, null."""
    if type(value) is str:  # the common case, first
        if "\x00" in value:
            value = value.replace("\x00", "")
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, (int, float)):
        value = repr(value) if isinstance(value, float) else str(value)
    elif not isinstance(value, str):
        raise TypeError(type(value).__name__)
    value = value.replace("\x00", "").strip()
    return value or None


def is_name(value: str | None) -> bool:
    """A name has at least one letter or digit ('.' and '-' are not names)."""
    return value is not None and _ALNUM.search(value) is not None


def names_from_email(email: str) -> tuple[str, str]:
    """('jane.doe@x.com') -> ('Jane', 'Doe'); ('jane@x.com') -> ('Jane', '-'); numbers are not
    names: ('jane.doe.12@x.com') -> ('Jane', 'Doe')."""
    parts = [p for p in _NAME_PARTS.split(email.split("@", 1)[0]) if p and not p.isdigit()]
    if not parts:
        return "Unknown", LAST_NAME_FALLBACK
    first = parts[0].capitalize()
    last = parts[-1].capitalize() if len(parts) >= 2 else LAST_NAME_FALLBACK
    return first, last


class LeadBuilder:
    """Builds payloads for one client slug under one column map."""

    def __init__(self, columns: ColumnMap, slug: str, *, allow_no_email: bool = False,
                 unmapped_to_notes: bool = False,
                 notes_columns: frozenset[str] = frozenset()) -> None:
        self.columns = columns
        self.slug = slug
        self.allow_no_email = allow_no_email
        self.unmapped_to_notes = unmapped_to_notes
        self.notes_columns = notes_columns  # unmapped columns that go to notes regardless

    def build(self, values: Mapping[str, Any]) -> Built:
        fields: dict[str, str] = {}
        extras: list[str] = []
        spare: list[str] = []
        nul = tuple(c for c, v in values.items() if type(v) is str and "\x00" in v)
        decided, field_for = self.columns.decided, self.columns.field_for
        for column, raw in values.items():
            target = decided[column] if column in decided else field_for(column)
            if target is None and column not in self.notes_columns and (
                    not self.unmapped_to_notes or column in self.columns.dropped):
                continue
            try:
                value = clean(raw)
            except TypeError as kind:
                if target is None:
                    continue
                return Built(None, None, f"column {column!r} holds a JSON {kind}, not a value")
            if value is None:
                continue
            if target is None:
                if column not in INTERNAL:
                    extras.append(f"{self.columns.label(column)}: {value}")
            elif target not in fields:  # the first non-empty column wins
                fields[target] = value
            elif value.casefold() != fields[target].casefold():  # "Email 2", a second "Email"
                spare.append(column)
                if self.unmapped_to_notes:
                    extras.append(f"{column}: {value}")
        built = self._finish(fields, extras, tuple(spare))
        return replace(built, nul=nul) if nul else built

    def _finish(self, fields: dict[str, str], extras: list[str], spare: tuple[str, ...]) -> Built:
        email = fields.get("email")
        key = None
        if email is not None:
            if not EMAIL.match(email):
                return Built(None, None, f"invalid email {email!r}", spare=spare,
                             typed_email=email)
            key = email.lower()
        elif not self.allow_no_email:
            return Built(None, None, "no email (pass --allow-no-email to import such rows)",
                         spare=spare)
        given = dict(fields)
        self._complete_names(fields, email)
        if not is_name(fields.get("firstName")):
            return Built(None, key, "no first name, and no email to derive one from", spare=spare)
        self._complete_company(fields)
        if extras:
            fields["notes"] = "\n".join(filter(None, [fields.get("notes"), *extras]))
        payload = {"client_id": self.slug}
        payload.update((k, v) for k, v in fields.items() if k != "fullName")
        derived = frozenset(k for k, v in payload.items() if k != "client_id" and given.get(k) != v)
        return Built(payload, key, derived=derived, spare=spare)

    @staticmethod
    def _complete_names(fields: dict[str, str], email: str | None) -> None:
        first, last = fields.get("firstName"), fields.get("lastName")
        full = fields.get("fullName")
        if full and not (is_name(first) and is_name(last)):
            parts = full.split()  # "Mary Ann Smith": the last word is the last name
            if not is_name(first) and parts:
                first = " ".join(parts[:-1]) or parts[0]
            if not is_name(last) and len(parts) > 1:
                last = parts[-1]
        if email and not (is_name(first) and is_name(last)):
            derived_first, derived_last = names_from_email(email)
            first = first if is_name(first) else derived_first
            last = last if is_name(last) else derived_last
        if first is not None and is_name(first):
            fields["firstName"] = first
        else:
            fields.pop("firstName", None)
        fields["lastName"] = last if is_name(last) and last else LAST_NAME_FALLBACK

    @staticmethod
    def _complete_company(fields: dict[str, str]) -> None:
        url, domain = fields.get("companyUrl"), fields.get("companyDomain")
        if url and not domain:
            host = re.sub(r"^[a-z]+://", "", url, flags=re.I).split("/", 1)[0].split(":", 1)[0]
            host = host.lower().removeprefix("www.")
            if "." in host:
                fields["companyDomain"] = host
        elif domain and not url:
            fields["companyUrl"] = f"https://{domain.lower().removeprefix('www.')}"
