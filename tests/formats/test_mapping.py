"""Headers to lead fields: case-, space- and punctuation-insensitive, with synonyms."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.errors import SourceError
from bulkio.formats.mapping import SYNONYMS, ColumnMap, auto_field, load_mapping

PAIRS = [(name, syn) for name, syns in SYNONYMS.items() for syn in syns]


@st.composite
def decorated(draw: st.DrawFn) -> tuple[str, str]:
    """A synonym as a person might write it: cases, separators, padding, a number."""
    field, synonym = draw(st.sampled_from(PAIRS))
    out = []
    for ch in synonym:
        out.append(ch.upper() if draw(st.booleans()) else ch)
        if draw(st.integers(0, 6)) == 0:
            out.append(draw(st.sampled_from([" ", "_", "-", ".", "/"])))
    text = "".join(out)
    if draw(st.booleans()):
        text += draw(st.sampled_from([" 1", "_2", "3"]))
    return field, draw(st.sampled_from(["", " ", "  "])) + text + draw(st.sampled_from(["", " "]))


@given(decorated())
def test_any_spelling_of_a_synonym_maps_to_its_field(pair: tuple[str, str]) -> None:
    """'First Name', 'first_name', ' E-MAIL 1 ' ... find their field."""
    field, header = pair
    assert auto_field(header) == field


@pytest.mark.parametrize(("header", "field"), [
    ("First Name", "firstName"), ("first_name", "firstName"), ("Given Name", "firstName"),
    ("Email", "email"), ("E-mail", "email"), ("Email Address", "email"), ("Email 1", "email"),
    ("Phone", "phoneNumber"), ("Phone 1", "phoneNumber"), ("Mobile", "phoneNumber"),
    ("phone_number", "phoneNumber"), ("Company", "companyName"), ("Company Name", "companyName"),
    ("Organization", "companyName"), ("Website", "companyUrl"), ("Domain", "companyDomain"),
    ("Title", "title"), ("Job Title", "title"), ("LinkedIn", "linkedinUrl"),
    ("LinkedIn URL", "linkedinUrl"), ("Notes", "notes"), ("Full Name", "fullName"),
    ("Lifecycle Stage", None), ("Favourite Colour", None),
])
def test_the_issue_s_examples(header: str, field: str | None) -> None:
    """The headers the issue names, and two that map to nothing."""
    assert auto_field(header) == field


def test_client_id_never_comes_from_the_file() -> None:
    """A client_id column is ignored: the target is --client."""
    assert ColumnMap().field_for("client_id") is None


def test_overrides_win_and_null_drops(tmp_path: Path) -> None:
    """--mapping maps a column anywhere, or drops it with null."""
    path = tmp_path / "m.json"
    path.write_text('{"Cell": "phoneNumber", "Email": null, "Segment": "aiQualification"}')
    columns = load_mapping(str(path))
    assert columns.plan(["Cell", "Email", "Segment", "Title"]) == {
        "phoneNumber": ["Cell"], "aiQualification": ["Segment"], "title": ["Title"]}
    with pytest.raises(SourceError, match="'Cell'"):
        columns.check_columns(["Email"])


@pytest.mark.parametrize("content", ['["a"]', '{"A": 3}', '{"A": "client_id"}', "not json"])
def test_bad_mapping_files_are_clear_errors(tmp_path: Path, content: str) -> None:
    """A mapping that is not column -> field name or null is refused with the reason."""
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(SourceError):
        load_mapping(str(path))


@pytest.mark.parametrize(("header", "field"), [
    ("Prénom", "firstName"), ("Nom", "lastName"), ("Société", "companyName"),
    ("Téléphone", "phoneNumber"), ("Courriel", "email"), ("Vorname", "firstName"),
    ("Nachname", "lastName"), ("Firma", "companyName"), ("Telefon", "phoneNumber"),
    ("E-Mail-Adresse", "email"), ("Nombre", "firstName"), ("Apellido", "lastName"),
    ("Empresa", "companyName"), ("Correo", "email"), ("Teléfono", "phoneNumber"),
    ("Cargo", "title"), ("Correo electrónico", "email"), ("Sobrenome", "lastName"),
    ("Telefone", "phoneNumber"), ("Cognome", "lastName"), ("Azienda", "companyName"),
    ("Indirizzo email", "email"), ("Nom de famille", "lastName"), ("Entreprise", "companyName"),
    ("Site web", "companyUrl"), ("Fonction", "title"), ("Handy", "phoneNumber"),
    ("Móvil", "phoneNumber"), ("Bemerkungen", "notes"), ("Nom complet", "fullName"),
])
def test_headers_in_the_languages_lead_files_come_in(header: str, field: str) -> None:
    """French, German, Spanish, Portuguese and Italian headers, accents folded."""
    assert auto_field(header) == field


def test_a_column_can_be_addressed_by_position_and_repeated_names_by_name() -> None:
    """"#4" maps the fourth column whatever its name; a name maps every column it labels."""
    columns = ColumnMap({"#4": "email", "Email": None})
    labels = ["name", "Email", "Phone", "Email 2"]
    columns.bind(labels, ["name", "Email", "Phone", "Email"])
    assert columns.plan(labels) == {"fullName": ["name"], "phoneNumber": ["Phone"], "email": ["Email 2"]}
    columns.check_columns(labels)


def test_positions_are_checked_against_the_header() -> None:
    """A position past the header, or a position for NDJSON (no positions), is a clear error."""
    columns = ColumnMap({"#9": "email"})
    columns.bind(["a", "b"], ["a", "b"])
    with pytest.raises(SourceError, match="'#9', but the file has 2 columns"):
        columns.check_columns(["a", "b"])
    with pytest.raises(SourceError, match="only a CSV's columns have positions"):
        ColumnMap({"#1": "email"}).check_columns(["email"], complete=False)


def test_an_ndjson_key_not_seen_yet_is_not_an_error() -> None:
    """NDJSON keys are known only as records arrive: names are not checked up front, and the
    override applies when the key shows up. A CSV's header is complete: the same is refused."""
    columns = ColumnMap({"Later": "title"})
    columns.check_columns(["email"], complete=False)
    assert columns.field_for("Later") == "title" and columns.field_for("email") == "email"
    with pytest.raises(SourceError, match="'Later', which the file does not have"):
        ColumnMap({"Later": "title"}).check_columns(["email"], complete=True)
