"""Registered secrets never reach a log line or a printed error."""

from __future__ import annotations

import logging

import pytest

from bulkio.http.redact import MARK, RedactingFilter, redact, register_secret


def test_redact_replaces_every_registered_secret() -> None:
    """Each occurrence is replaced; short strings are not treated as secrets."""
    register_secret("tok-123456789", "pw-abcdef", "abc", None)
    text = redact("token tok-123456789 and pw-abcdef and tok-123456789; abc stays")
    assert text == f"token {MARK} and {MARK} and {MARK}; abc stays"


def test_log_records_are_redacted_after_formatting(caplog: pytest.LogCaptureFixture) -> None:
    """A secret passed as a log argument is replaced in the formatted message."""
    register_secret("sk-live-0123456789")
    logger = logging.getLogger("bulkio.test")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="bulkio.test"):
        logger.info("sending %s to %s", "sk-live-0123456789", "the server")
    assert "sk-live-0123456789" not in caplog.text and MARK in caplog.text
