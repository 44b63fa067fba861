"""Payloads obey the API's rules, whatever the row holds."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from bulkio.formats.mapping import ColumnMap
from bulkio.formats.sanitize import EMAIL, LeadBuilder, names_from_email

COLUMNS = ["First Name", "Last Name", "Email", "Phone", "Company", "Website", "Title", "Notes",
           "Full Name", "client_id", "Stage"]
VALUES = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", " ", "\t", ".", "-", "?"]),
                   st.integers(), st.booleans())
ROWS = st.dictionaries(st.sampled_from(COLUMNS), VALUES)
EMAILS = st.from_regex(r"[a-z]{1,6}([._-][a-z]{1,6}){0,2}@[a-z]{1,8}\.[a-z]{2,4}", fullmatch=True)


def builder(**kwargs: Any) -> LeadBuilder:
    return LeadBuilder(ColumnMap(), "acme-corp", **kwargs)


@given(ROWS, st.booleans())
@example({"Email": "jane.doe@x.com", "Last Name": "."}, False)
@example({"Email": " a@b.co ", "Phone": "", "Title": "   "}, False)
def test_every_payload_obeys_the_rules(row: dict[str, object], to_notes: bool) -> None:
    """No empty or padded value, phoneNumber never phone, a real first name, a last name that is
    a name or '-', client_id the slug, a valid email unless allowed."""
    built = builder(allow_no_email=True, unmapped_to_notes=to_notes).build(row)
    if built.payload is None:
        assert built.error
        return
    payload = built.payload
    assert payload["client_id"] == "acme-corp"
    assert "phone" not in payload and "fullName" not in payload
    for value in payload.values():
        assert value == value.strip() and value
    assert any(c.isalnum() for c in payload["firstName"])
    assert payload["lastName"] == "-" or any(c.isalnum() for c in payload["lastName"])
    if "email" in payload:
        assert EMAIL.match(payload["email"])


@given(EMAILS)
def test_names_are_derived_from_the_email(email: str) -> None:
    """Missing names come from the local part; a one-part local part gives last name '-'."""
    built = builder().build({"Email": email})
    assert built.payload is not None
    first, last = names_from_email(email)
    assert (built.payload["firstName"], built.payload["lastName"]) == (first, last)
    assert {"firstName", "lastName"} <= built.derived
    assert "firstName" not in built.changes()


def test_concrete_rules() -> None:
    """The documented cases, one by one."""
    b = builder()
    assert b.build({"Email": "jane.doe@x.com"}).payload == {
        "client_id": "acme-corp", "email": "jane.doe@x.com", "firstName": "Jane", "lastName": "Doe"}
    assert b.build({"Email": "solo@x.com", "Last Name": "."}).payload["lastName"] == "-"  # type: ignore[index]
    assert names_from_email("linda.white.0@x.com") == ("Linda", "White")  # a number is no name
    assert names_from_email("1234@x.com") == ("Unknown", "-")
    full = b.build({"Email": "a@x.com", "Full Name": "Ada King Lovelace"}).payload
    assert full is not None and (full["firstName"], full["lastName"]) == ("Ada King", "Lovelace")
    web = b.build({"Email": "a@x.com", "Website": "https://www.Engines.co.uk/about"}).payload
    assert web is not None and web["companyDomain"] == "engines.co.uk"
    assert b.build({"First Name": "Ada"}).error == "no email (pass --allow-no-email to import such rows)"
    assert "invalid email" in str(b.build({"Email": "ada@"}).error)
    assert b.build({"Email": "a@x.com", "client_id": "other"}).payload["client_id"] == "acme-corp"  # type: ignore[index]


def test_a_single_name_column_is_split_last_word_last() -> None:
    """'Name', 'Full Name' or 'Contact' alone: the last word is the last name."""
    for header in ("Name", "Full Name", "Contact"):
        for full, first, last in (("Alice Smith", "Alice", "Smith"),
                                  ("Mary Ann Smith", "Mary Ann", "Smith"),
                                  ("Cher", "Cher", "-")):
            payload = builder().build({header: full, "Email": "x@y.org"}).payload
            assert payload is not None
            assert (payload["firstName"], payload["lastName"]) == (first, last), (header, full)


def test_a_second_value_for_a_field_is_spare_and_goes_to_notes_if_asked() -> None:
    """Email and 'Email 2' both filled: the first is sent; the second is named as spare, and
    kept in notes as 'Email 2: ...' with --unmapped notes (a value equal to the first is not)."""
    row = {"Email": "a@x.com", "Email 2": "b@x.com", "Phone": "1", "Phone 2": "1"}
    dropped = builder().build(row)
    assert dropped.payload is not None and dropped.spare == ("Email 2",)
    assert "notes" not in dropped.payload and dropped.payload["email"] == "a@x.com"
    kept = builder(unmapped_to_notes=True).build(row)
    assert kept.payload is not None and kept.payload["notes"] == "Email 2: b@x.com"
    second_only = builder().build({"Email": " ", "Email 2": "b@x.com"})
    assert second_only.payload is not None and second_only.payload["email"] == "b@x.com"
    assert second_only.spare == ()


def test_unmapped_columns_can_go_to_notes() -> None:
    """--unmapped notes appends 'Column: value' lines to the notes."""
    built = builder(unmapped_to_notes=True).build({"Email": "a@x.com", "Notes": "hi", "Stage": "mql"})
    assert built.payload is not None and built.payload["notes"] == "hi\nStage: mql"


def test_a_column_mapped_to_null_is_dropped_even_with_unmapped_notes() -> None:
    """--mapping {"Company": null} --unmapped notes: null means not imported, not even as a
    notes line; a column that maps to nothing by itself still goes to notes."""
    columns = ColumnMap({"Company": None})
    built = LeadBuilder(columns, "acme-corp", unmapped_to_notes=True).build(
        {"Email": "ada@x.com", "Company": "Acme", "Fax": "+1 555"})
    assert built.payload is not None
    assert built.payload.get("notes") == "Fax: +1 555" and "companyName" not in built.payload
