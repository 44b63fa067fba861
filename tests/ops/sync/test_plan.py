"""Property tests of what a sync sends for a changed contact: the fields that differ from what
was last sent, and what the lead holds after them; and the --every/--lookback durations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bulkio.cli.sync_cmd import duration
from bulkio.ops.sync.plan import after_update, differing
from bulkio.ops.sync.writing import noted

FIELDS = st.sampled_from(["email", "firstName", "lastName", "title", "companyName", "notes",
                          "phoneNumber"])
VALUES = st.text(min_size=1, max_size=8)
PAYLOADS = st.dictionaries(FIELDS, VALUES, max_size=7)


@given(PAYLOADS, PAYLOADS)
def test_with_clear_emptied_the_lead_ends_as_the_contact_maps(payload: dict[str, str],
                                                             sent: dict[str, str]) -> None:
    fields = differing(payload, sent, clear_emptied=True)
    assert after_update(sent, fields) == payload
    assert differing(payload, after_update(sent, fields), clear_emptied=True) == {}
    assert all(sent.get(k) != v for k, v in fields.items())  # nothing sent that was there


@given(PAYLOADS, PAYLOADS)
def test_without_it_an_emptied_field_keeps_its_value(payload: dict[str, str],
                                                     sent: dict[str, str]) -> None:
    fields = differing(payload, sent, clear_emptied=False)
    assert "" not in fields.values()
    assert after_update(sent, fields) == {**sent, **payload}


@given(st.text(max_size=40), st.text(min_size=1, max_size=20).filter(lambda t: "\n" not in t))
def test_a_note_line_is_added_once(notes: str, line: str) -> None:
    once = noted(notes, line)
    assert noted(once, line) == once and line in once.split("\n")


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["", "s", "m", "h", "d"]))
def test_durations(number: int, unit: str) -> None:
    factor = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert duration(f"{number}{unit}") == number * factor
