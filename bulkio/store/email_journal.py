"""What the email checker said about each distinct address of a job (`bulkio emails validate`,
`bulkio import --validate-emails`): asked once, kept for --resume."""

from __future__ import annotations

from collections.abc import Iterable

from .db import JobDatabase, transaction

VERDICTS = ("valid", "invalid", "risky", "unknown")


class EmailChecks(JobDatabase):
    SCHEMA = """
    CREATE TABLE IF NOT EXISTS checks (
        key TEXT PRIMARY KEY, email TEXT NOT NULL, verdict TEXT NOT NULL, reason TEXT);
    """
    SYNCHRONOUS = "NORMAL"  # a verdict lost to a power cut is asked again: harmless

    def checked(self) -> set[str]:
        return {k for (k,) in self.db.execute("SELECT key FROM checks")}

    def record(self, results: Iterable[tuple[str, str, str, str | None]]) -> None:
        """(key, email as sent, verdict, reason) for each address checked."""
        with transaction(self.db):
            self.db.executemany("INSERT OR REPLACE INTO checks VALUES (?, ?, ?, ?)", results)

    def verdicts(self) -> dict[str, tuple[str, str | None]]:
        """key -> (verdict, reason), for every address checked."""
        return {k: (v, r) for k, v, r in self.db.execute("SELECT key, verdict, reason FROM checks")}

    def refused(self) -> dict[str, str]:
        """key -> reason, for the addresses the checker calls invalid (or undeliverable)."""
        return {k: r or "invalid" for k, r in self.db.execute(
            "SELECT key, reason FROM checks WHERE verdict = 'invalid'")}
