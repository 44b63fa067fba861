"""Payloads obey the seeds' rules, whatever the row holds."""

from __future__ import annotations

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


def builder(**kwargs: bool) -> LeadBuilder:
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
    """The seeds' cases, one by one."""
    b = builder()
    assert b.build({"Email": "jane.doe@x.com"}).payload == {
        "client_id": "acme-corp", "email": "jane.doe@x.com", "firstName": "Jane", "lastName": "Doe"}
    assert b.build({"Email": "solo@x.com", "Last Name": "."}).payload["lastName"] == "-"  # type: ignore[index]
    full = b.build({"Email": "a@x.com", "Full Name": "Ada King Lovelace"}).payload
    assert full is not None and (full["firstName"], full["lastName"]) == ("Ada", "King Lovelace")
    web = b.build({"Email": "a@x.com", "Website": "https://www.Engines.co.uk/about"}).payload
    assert web is not None and web["companyDomain"] == "engines.co.uk"
    assert b.build({"First Name": "Ada"}).error == "no email (pass --allow-no-email to import such rows)"
    assert "invalid email" in str(b.build({"Email": "ada@"}).error)
    assert b.build({"Email": "a@x.com", "client_id": "other"}).payload["client_id"] == "acme-corp"  # type: ignore[index]


def test_unmapped_columns_can_go_to_notes() -> None:
    """--unmapped notes appends 'Column: value' lines to the notes."""
    built = builder(unmapped_to_notes=True).build({"Email": "a@x.com", "Notes": "hi", "Stage": "mql"})
    assert built.payload is not None and built.payload["notes"] == "hi\nStage: mql"
