"""The live displays on a (fake) terminal: the bar, one line per busy client, and the end."""

from __future__ import annotations

import io
from typing import Any

import pytest

from bulkio.cli.progress import ExportDisplay, describe_purge
from bulkio.models import ExportProgress, PurgeProgress, StreamProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def export_progress(phase: str, streams: list[StreamProgress]) -> ExportProgress:
    return ExportProgress(phase=phase, records=sum(s.records for s in streams),
                          pages=sum(s.pages for s in streams), bytes=10_000_000,
                          duplicates_dropped=0, streams=streams, requests=9, retries=0,
                          rate_limited=0, elapsed_s=2.0)


def test_the_export_display_shows_the_busy_clients_under_the_bar(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # a wide terminal: nothing cut short
    screen = Terminal()
    display = ExportDisplay(stream=screen)
    display.update(export_progress("exporting", [
        StreamProgress("enrich-leads acme-corp", 15_000, 3, False),
        StreamProgress("enrich-leads beta-inc", 5_000, 1, False),
        StreamProgress("enrich-leads finished-co", 2_000, 1, True),
        StreamProgress("enrich-leads not-started", 0, 0, False)]))
    assert set(display._rows) == {"acme-corp", "beta-inc"}  # one kind: the client says it
    display.update(export_progress("done", [
        StreamProgress("enrich-leads acme-corp", 20_000, 4, True)]))
    text = screen.getvalue()
    assert "acme-corp" in text and "20,000 records" in text and "cursors 1/1 done" in text
    assert display._bar is None and not display._rows  # stopped at the end, rows gone first


def test_the_purge_line_says_what_is_known() -> None:
    listing = PurgeProgress(phase="round 1: listing", round=1, found=None, remaining=None,
                            enumerated=4000, sent=0, requests=2, retries=0, rate_limited=0,
                            elapsed_s=1.0, per_minute=100.0)
    assert describe_purge(listing).startswith("round 1 · listed 4,000 · 429s")
    deleting = PurgeProgress(phase="round 1: deleting", round=1, found=10_000,
                             remaining=10_000, enumerated=10_000, sent=5_000, requests=110,
                             retries=1, rate_limited=0, elapsed_s=60.0, per_minute=100.0)
    assert "sent 5,000 (83.3/s)" in describe_purge(deleting)
    assert "ETA 1 min" in describe_purge(deleting)  # 100 batches of 50 left at 100 a minute


def test_hung_requests_are_shown_as_waiting_for_the_server() -> None:
    """Requests out for 5 s or more with no answer: the progress line says so."""
    from bulkio.cli.progress import describe, waiting
    from bulkio.models import ImportProgress

    assert waiting(4.9) == "" and waiting(37.2) == " · waiting for the server (37 s)"
    hung = ImportProgress(phase="importing", rows_done=10, fraction_read=None, created=10,
                          updated=0, skipped=0, rejected=0, failed=0, in_flight=4, requests=12,
                          retries=0, rate_limited=0, elapsed_s=60.0, per_minute=None, waiting_s=12.0)
    assert describe(hung).endswith("waiting for the server (12 s)")


def test_a_settle_wait_shows_the_wait_not_a_rate_or_an_eta() -> None:
    """Waiting for lost answers to settle after a resume: no '215,570/s', no 'ETA 15353 min'."""
    from bulkio.cli.progress import describe
    from bulkio.models import ImportProgress

    base: dict[str, Any] = dict(
        rows_done=215_570, fraction_read=0.0001, created=215_000, updated=0, skipped=570,
        rejected=0, failed=0, in_flight=12, requests=3, retries=0, rate_limited=0,
        elapsed_s=1.0, per_minute=100.0, rows_before=215_560)
    waiting = describe(ImportProgress(phase="waiting 28 s for requests in flight to settle", **base))
    assert "/s" not in waiting and "ETA" not in waiting and "12 awaiting their outcome" in waiting
    importing = describe(ImportProgress(phase="importing", **{**base, "fraction_read": 0.5}))
    assert "(10.0/s)" in importing  # this run's rows, not the job's
