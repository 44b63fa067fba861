"""Properties of the service's translation of the LeadVibe import request into bulkio's column
map, and of the processing command's small parsers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.errors import ConfigError
from bulkio.formats.mapping import FIELDS, field_named
from bulkio.ops.process.plan import Where, parse_items
from bulkio.service.mappings import ALIAS_KINDS, NOTES_ONLY, BadRequest, plan_import

NAMES = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12)
#: LeadVibe's profile fields (LeadVibe's snake_case names), LeadGenius's, and names of neither.
LEADVIBE = ("first_name", "firstname", "last_name", "full_name", "email", "phone", "phone_number",
            "company", "company_name", "title", "job_title", "notes", "linkedin", "linkedin_url",
            "website", "company_url", "domain", "company_domain", *NOTES_ONLY)
TARGETS = st.sampled_from(sorted({*FIELDS, *LEADVIBE, "favourite_colour", "fax"}))


@st.composite
def requests(draw: Any) -> tuple[list[str], dict[str, Any]]:
    headers = draw(st.lists(NAMES, min_size=2, max_size=8, unique=True))
    primary = draw(st.sampled_from(headers))
    others = [h for h in headers if h != primary]
    mapped = draw(st.lists(st.sampled_from(others), unique=True)) if others else []
    fields = {h: draw(TARGETS) for h in mapped}
    rest = [h for h in others if h not in fields]
    aliases = {h: draw(st.sampled_from(sorted(ALIAS_KINDS)))
               for h in draw(st.lists(st.sampled_from(rest), unique=True))} if rest else {}
    return headers, {"primary_identifier": {"column": primary, "kind": "email"},
                     "field_mappings": fields, "alias_mappings": aliases}


@given(requests())
def test_every_column_is_decided_and_the_identifier_is_the_email(
        case: tuple[list[str], dict[str, Any]]) -> None:
    headers, body = case
    plan = plan_import(body, headers, dict.fromkeys(headers))
    primary = body["primary_identifier"]["column"]
    assert set(plan.mapping) == set(headers) and plan.mapping[primary] == "email"
    assert list(plan.mapping.values()).count("email") == 1
    for column, target in body["field_mappings"].items():
        if target in NOTES_ONLY:  # no LeadGenius field: a notes line, said
            assert plan.mapping[column] is None
            assert plan.notes_columns[column] == NOTES_ONLY[target]
            assert any(repr(target) in n for n in plan.notices)
            continue
        expected = field_named(target)
        assert plan.mapping[column] == (None if expected in (None, "email") else expected)
        if expected is None:
            assert any(repr(target) in n for n in plan.notices)
    for column, key in body["alias_mappings"].items():
        assert plan.mapping[column] is None
        assert plan.notes_columns[column] == f"Alias ({ALIAS_KINDS[key]})"
    assert all(t is None or t in {*FIELDS, "fullName"} for t in plan.mapping.values())


def test_every_leadvibe_profile_field_is_a_leadgenius_field_or_a_notes_line() -> None:
    """One synonym table: each of LeadVibe's names is read by bulkio's own (formats.mapping),
    except those LeadGenius has no field for, which are notes lines."""
    for name in LEADVIBE:
        assert (field_named(name) is None) == (name in NOTES_ONLY), name
    assert field_named("company_name") == "companyName" == field_named("company")
    assert field_named("phone_number") == "phoneNumber" and field_named("job_title") == "title"
    assert field_named("full_name") == "fullName"


@given(st.sampled_from(["phone", "cookie", "external_id", "social"]))
def test_only_email_identifies_a_lead(kind: str) -> None:
    with pytest.raises(BadRequest, match="email"):
        plan_import({"primary_identifier": {"column": "A", "kind": kind}}, ["A"], {"A": None})


@given(NAMES.filter(lambda n: "=" not in n and n.strip().replace("_", "").isalnum()),
       st.text(max_size=10))
def test_where_reads_back_what_it_was_given(field: str, value: str) -> None:
    where = Where.parse(f"{field}={value}")
    assert (where.field, where.value) == (field.strip(), value)
    assert where.matches({field.strip(): value}) and where.matches({field.strip(): f" {value} "})
    assert Where.parse(f"{field}=").matches({}) and Where.parse(f"{field}=").matches({field.strip(): " "})


@given(st.lists(st.integers(1, 10), min_size=1))
def test_process_numbers_are_kept_once_in_order(numbers: list[int]) -> None:
    assert parse_items("copyright", ",".join(map(str, numbers))) == tuple(dict.fromkeys(numbers))


@pytest.mark.parametrize("text", ["", "0", "11", "1,x", ",,"])
def test_bad_process_numbers_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_items("copyright", text)


def test_enrich_services_are_the_apis_own() -> None:
    assert parse_items("enrich", "companyUrl, enrichment10,companyUrl") == ("companyUrl",
                                                                           "enrichment10")
    with pytest.raises(ConfigError, match="'bogus' is not an enrichment service"):
        parse_items("enrich", "companyUrl,bogus")
