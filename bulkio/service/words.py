"""The page's words for what bulkio says in the terminal's: a row's reason names a flag of
the command line where the page has a checkbox."""

from __future__ import annotations

#: the command line's advice -> the page's
ADVICE = {
    "(pass --allow-no-email to import such rows)":
        "(tick “Import rows without an email” to import such rows)",
}


def plain(reason: str | None) -> str | None:
    """A row's reason as the page says it."""
    if not reason:
        return reason
    for said, meant in ADVICE.items():
        reason = reason.replace(said, meant)
    return reason
