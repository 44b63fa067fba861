"""Which input column feeds which lead field.

Automatic: a header matches a field when its *key* (accents and case folded, letters and
digits only, a trailing number dropped: "E-mail 1" -> "email", "Téléphone" -> "telephone")
is one of the field's synonyms, in English, French, German, Spanish, Portuguese or Italian.
Several columns may feed one field ("Email 1", "Email 2", or "Email" twice): the first
non-empty value wins, in column order; a different value in a later one is *spare*, kept in
notes with --unmapped notes.
`--mapping FILE.json` overrides: {"Column": "field"}, {"Column": null} to drop a column, and
{"#4": "email"} for the 4th column of a CSV (whatever its name, repeated or not).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import SourceError

#: Fields the LeadGenius API is documented to store, with the headers people use.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "firstName": ("firstname", "first", "givenname", "forename", "fname",
                  "prenom", "vorname", "nombre", "primernombre", "nome", "primeironome"),
    "lastName": ("lastname", "last", "surname", "familyname", "lname",
                 "nom", "nomdefamille", "nachname", "familienname", "apellido", "apellidos",
                 "sobrenome", "apelido", "ultimonome", "cognome"),
    "email": ("email", "emailaddress", "mail", "workemail", "businessemail", "emailaddr",
              "courriel", "adresseemail", "adressemail", "adressecourriel", "emailadresse",
              "mailadresse", "correo", "correoelectronico", "direcciondecorreo",
              "enderecodeemail", "indirizzoemail", "postaelettronica"),
    "phoneNumber": ("phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "telephone",
                    "tel", "cell", "cellphone", "workphone", "directphone", "phoneno",
                    "portable", "numerodetelephone", "telefon", "telefonnummer", "mobil",
                    "mobiltelefon", "handy", "telefono", "movil", "celular", "numerodetelefono",
                    "telefone", "telemovel", "cellulare"),
    "companyName": ("company", "companyname", "organization", "organisation", "org", "account",
                    "accountname", "employer", "business",
                    "societe", "entreprise", "nomdelentreprise", "raisonsociale", "firma",
                    "firmenname", "unternehmen", "empresa", "compania", "companhia", "azienda",
                    "societa"),
    "companyDomain": ("domain", "companydomain", "emaildomain", "domaine", "dominio"),
    "companyUrl": ("website", "companyurl", "companywebsite", "url", "web", "site", "homepage",
                   "siteweb", "siteinternet", "webseite", "internetseite", "sitioweb",
                   "paginaweb", "sitoweb"),
    "title": ("title", "jobtitle", "position", "role", "designation", "headline",
              "poste", "fonction", "titre", "intituledeposte", "berufsbezeichnung", "jobtitel",
              "cargo", "puesto", "ruolo", "funzione", "qualifica"),
    "linkedinUrl": ("linkedin", "linkedinurl", "linkedinprofile", "linkedinprofileurl",
                    "liprofile"),
    "notes": ("notes", "note", "comments", "comment", "description",
              "remarques", "commentaires", "notizen", "bemerkungen", "kommentar", "kommentare",
              "notas", "observaciones", "comentarios", "observacoes", "commenti"),
    "aiLeadScore": ("aileadscore", "leadscore", "score"),
    "aiQualification": ("aiqualification", "qualification"),
}
#: Read to derive first and last names, never sent as such.
DERIVED = {"fullName": ("fullname", "name", "contactname", "contact", "displayname",
                        "nomcomplet", "vollstandigername", "nombrecompleto", "nomecompleto")}
FIELDS = frozenset(SYNONYMS)
#: Columns bulkio itself writes (a rejects file's, a HubSpot record's id): never a field nor
#: a notes line.
INTERNAL = frozenset({"_row", "_error", "_hubspot_id"})
_KEY = re.compile(r"[^0-9a-z]+")
_TRAILING_NUMBER = re.compile(r"\d+$")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_POSITION = re.compile(r"^#([1-9][0-9]*)$")
_LOOKUP = {syn: name for table in (SYNONYMS, DERIVED) for name, syns in table.items() for syn in syns}


def header_key(header: str) -> str:
    """'  E-mail Address ' -> 'emailaddress'; 'Phone 1' -> 'phone1'; 'Société' -> 'societe'."""
    folded = unicodedata.normalize("NFKD", header.casefold())
    return _KEY.sub("", "".join(c for c in folded if not unicodedata.combining(c)))


def auto_field(header: str) -> str | None:
    """The lead field a header name means, or None."""
    key = header_key(header)
    if key in _LOOKUP:
        return _LOOKUP[key]
    return _LOOKUP.get(_TRAILING_NUMBER.sub("", key))


def field_named(name: str) -> str | None:
    """The lead field a mapping's target names: a field's own name ("companyName", or
    "fullName", read to derive the names), or any of its synonyms ("company_name", "Company");
    None when it names no field."""
    if name in FIELDS or name in DERIVED:
        return name
    return auto_field(name)


@dataclass
class ColumnMap:
    """Column -> field decisions for one import.

    Columns are the reader's labels: a CSV header's names, with a repeated name labelled
    "Email 2" (`bind` tells the map each label's name and position, so that overrides by
    name or by "#position" apply to it).
    """

    overrides: dict[str, str | None] = field(default_factory=dict)
    decided: dict[str, str | None] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # label -> the header's name
    positions: dict[str, int] = field(default_factory=dict)  # label -> 1-based position
    labels: dict[str, str] = field(default_factory=dict)  # column -> how people call it
    dropped: set[str] = field(default_factory=set)  # columns the mapping maps to null

    def bind(self, labels: list[str], names: list[str]) -> None:
        """Know a CSV header: its labels, their names and positions."""
        self.names = dict(zip(labels, names, strict=True))
        self.positions = {label: i for i, label in enumerate(labels, start=1)}
        self.decided.clear()
        self.dropped.clear()

    def field_for(self, column: str) -> str | None:
        """The field a column feeds (None: not imported). Decided once per column."""
        try:
            return self.decided[column]
        except KeyError:
            pass
        name = self.names.get(column, column)
        by_position = f"#{self.positions.get(column)}"
        for key in (by_position, column, name):
            if key in self.overrides:
                target = self.overrides[key]
                if target is None:
                    self.dropped.add(column)  # null: not imported, not even to notes
                break
        else:  # bulkio's own columns; the client comes from --client, never from the file
            internal = name in INTERNAL or name.strip().lower() in ("client_id", "clientid")
            target = None if internal else auto_field(name)
        self.decided[column] = target
        return target

    def label(self, column: str) -> str:
        """The column's name for people (a notes line: "Lifecycle stage: customer")."""
        return self.labels.get(column, column)

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

    def check_columns(self, columns: Iterable[str], *, complete: bool = True) -> None:
        """Overrides must name real columns, or positions within the header (CSV). An NDJSON
        file's keys are not all known at the start (`complete` False): only positions are
        checked then."""
        columns = list(columns)
        known = {*columns, *self.names.values()}
        missing = []
        for key in self.overrides:
            position = _POSITION.match(key)
            if position and not self.positions:
                raise SourceError(f"the mapping addresses {key!r} by position: only a CSV's "
                                  "columns have positions; name the key instead")
            if position and int(position.group(1)) > len(columns):
                raise SourceError(f"the mapping addresses {key!r}, but the file has "
                                  f"{len(columns)} columns")
            if not position and complete and key not in known:
                missing.append(key)
        if missing:
            raise SourceError(f"the mapping names {', '.join(map(repr, missing))}, which the file "
                              f"does not have; its columns are: {', '.join(map(repr, columns))}")


def load_mapping(path: str | None) -> ColumnMap:
    """The --mapping file: a JSON object of column -> field name or null."""
    if not path:
        return ColumnMap()
    return mapping_of(read_mapping_file(Path(path)))


def read_mapping_file(path: Path) -> dict[str, Any]:
    """A --mapping file's JSON object (column -> field), or SourceError saying what is wrong."""
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise SourceError(f"no such mapping file: {path}") from None
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"the mapping file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SourceError(f"the mapping file {path} must be a JSON object of column -> field")
    return data


def mapping_of(data: Mapping[str, Any]) -> ColumnMap:
    """A mapping given as column -> field name or null (a --mapping file's, or in memory)."""
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
