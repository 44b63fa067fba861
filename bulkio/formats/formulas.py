"""Cells a spreadsheet would run as formulas (CSV injection), made inert, and back.

Lead data comes from web forms and scrapes: text such as `=HYPERLINK(...)`, `+1+cmd|...`,
`@SUM(...)` or `-2+3` would run when the file is opened in a spreadsheet. bulkio writes it
with a `'` in front, which spreadsheets show as text (OWASP's advice), in exports and rejects
files alike. The guard can be taken off again exactly: a cell that already starts with `'`
before such a character gets one more, so reading removes one `'` and gives the value back.
"""

from __future__ import annotations

#: A cell starting with one of these is a formula to a spreadsheet (OWASP's CSV injection list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guarded(text: str) -> str:
    """`text` as a spreadsheet shows it as text: a `'` in front when it would be a formula."""
    return "'" + text if text.lstrip("'").startswith(FORMULA_START) else text


def unguarded(text: str) -> str:
    """The value `guarded` was given (for a file bulkio wrote itself)."""
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(FORMULA_START) else text
