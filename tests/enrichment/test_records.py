"""A row made a campaign record (ops.campaigns.records): properties over any row, and the
rules as the documentation states them; the round trip's notes lines; halving the batch
after repeated gateway timeouts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.enrichment.fields import FIELDS, key_field, kind_of, missing_identifier
from bulkio.errors import SourceError, TransientApiError
from bulkio.ops.campaigns.job import UploadOptions
from bulkio.ops.campaigns.records import RecordMaker, load_record_maker
from bulkio.ops.campaigns.round_trip import changes_for, merged_notes
from bulkio.ops.campaigns.upload import Uploader

COLUMNS = ["Email", "Last Name", "First Name", "Company", "Website", "Title", "Notes",
           "contact_record_id", "org_record_id", "contact_shoe_size", "org_industry", "City"]
values = st.one_of(st.none(), st.text(max_size=12), st.integers(), st.lists(st.integers(),
                                                                             max_size=2))


@given(st.dictionaries(st.sampled_from(COLUMNS), values, max_size=len(COLUMNS)))
def test_any_row_is_a_record_that_keeps_the_rules_or_a_reason(row: dict[str, Any]) -> None:
    made = RecordMaker().make(row, "tag-1")
    if isinstance(made, str):
        assert made  # a reason, never an empty one
        return
    key, kind, record = made
    assert kind == kind_of(record) and missing_identifier(record, kind) is None
    assert set(record) <= FIELDS  # nothing the API does not take
    assert str(record[key_field(kind)]) == key  # where a lost answer is looked for, as text
    for name, value in record.items():  # values as given: nothing trimmed or rewritten
        assert value in row.values() or (name == key_field(kind) and value == "tag-1")


def test_the_documented_rules() -> None:
    maker = RecordMaker()
    assert maker.make({"First Name": "Ada"}, "k") == \
        "a contact needs contact_last_name or contact_email"
    assert maker.make({"Email": "a@x.org", "Company": ""}, "k") == (
        "k", "contact", {"contact_email": "a@x.org", "contact_record_id": "k"})
    assert maker.make({"Website": "x.org"}, "k") == (
        "k", "org", {"org_website": "x.org", "org_record_id": "k"})
    assert maker.make({"Email": "a@x.org", "City": "Paris"}, "k") == \
        "a lead needs org_company_name or org_website"
    own = maker.make({"Email": "a@x.org", "contact_record_id": "CRM-9"}, "k")
    assert own == ("CRM-9", "contact", {"contact_email": "a@x.org",
                                        "contact_record_id": "CRM-9"})
    refused = maker.make({"Email": "a@x.org", "contact_shoe_size": "44"}, "k")
    assert isinstance(refused, str) and "--allow-field contact_shoe_size" in refused
    allowed = RecordMaker(allowed=frozenset({"contact_shoe_size"}))
    made = allowed.make({"Email": "a@x.org", "contact_shoe_size": "44"}, "k")
    assert not isinstance(made, str) and made[2]["contact_shoe_size"] == "44"


def test_a_mapping_file_overrides_the_automatic_mapping(tmp_path: Any) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"Org": "org_company_name", "Email": null, "Mail 2": "contact_email"}')
    maker = load_record_maker(mapping, ())
    made = maker.make({"Org": "Zinc", "Email": "old@x.org", "Mail 2": "new@x.org"}, "k")
    assert made == ("k", "lead", {"org_company_name": "Zinc", "contact_email": "new@x.org",
                                  "contact_record_id": "k"})
    mapping.write_text('{"Org": "companyName"}')
    with pytest.raises(SourceError, match="not a field the enrichment API takes"):
        load_record_maker(mapping, ())


@given(st.text(max_size=80), st.dictionaries(st.sampled_from(["Industry", "City", "Seniority"]),
                                             st.text(alphabet="abc XYZ", min_size=1,
                                                     max_size=8), max_size=3))
def test_notes_lines_set_once_and_the_rest_kept(notes: str, lines: dict[str, str]) -> None:
    once = merged_notes(notes, lines)
    assert merged_notes(once, lines) == once  # a second round trip changes nothing
    assert notes == merged_notes(notes, {})  # nothing to set: the notes as they were
    for label, value in lines.items():
        assert f"{label}: {value}" in once.split("\n")
    kept = [line for line in (notes.split("\n") if notes else [])
            if line.split(":", 1)[0].strip() not in lines]
    assert [line for line in once.split("\n") if line in kept] == kept


def test_a_lead_is_sent_only_what_differs() -> None:
    lead = {"id": "L1", "email": "a@x.org", "title": "CTO", "notes": "Met at a fair"}
    record = {"contact_email": "a@x.org", "contact_job_title": "CTO", "org_industry": "Retail",
              "contact_last_name": ""}
    assert changes_for(lead, record) == {"notes": "Met at a fair\nIndustry: Retail"}
    assert changes_for({**lead, "notes": "Met at a fair\nIndustry: Retail"}, record) == {}


class Api:
    settings = None


def test_repeated_gateway_timeouts_halve_the_batch() -> None:
    uploader = Uploader(Api(), None, UploadOptions(campaign="c"))  # type: ignore[arg-type]
    assert uploader.batch_size == 200
    gateway = TransientApiError(504, "Gateway Timeout")
    uploader._count_gateway(gateway)
    assert uploader.batch_size == 200  # once is chance
    uploader._count_gateway(gateway)
    assert uploader.batch_size == 100
    uploader._count_gateway(TransientApiError(500, "oops"))  # not the gateway's: no count
    uploader._count_gateway(gateway)
    uploader._count_gateway(gateway)
    assert uploader.batch_size == 50
    assert Uploader(Api(), None, UploadOptions(batch_size=500)).batch_size == 200  # type: ignore[arg-type]
