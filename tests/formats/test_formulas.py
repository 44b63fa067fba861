"""The spreadsheet guard: never a live formula, and taken off exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bulkio.formats.formulas import FORMULA_START, guarded, unguarded

cells = st.text(st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", "1", " "]), max_size=8) | st.text()


@given(cells)
def test_a_guarded_cell_never_starts_a_formula_and_comes_back(text: str) -> None:
    assert not guarded(text).startswith(FORMULA_START)
    assert unguarded(guarded(text)) == text


def test_the_cases_people_meet() -> None:
    assert guarded('=HYPERLINK("http://evil.example","x")') == '\'=HYPERLINK("http://evil.example","x")'
    assert guarded("-2+3") == "'-2+3" and guarded("'=1") == "''=1"
    assert guarded("O'Brien") == "O'Brien" and guarded("'quoted'") == "'quoted'"
