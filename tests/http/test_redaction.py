"""Registered secrets never reach a log line or a printed error."""

from __future__ import annotations

import logging
from pathlib import Path

from bulkio.http.redact import MARK, redact, register_secret
from bulkio.ops.jobs import job_log


def test_redact_replaces_every_registered_secret() -> None:
    """Each occurrence is replaced; short strings are not treated as secrets."""
    register_secret("tok-123456789", "pw-abcdef", "abc", None)
    text = redact("token tok-123456789 and pw-abcdef and tok-123456789; abc stays")
    assert text == f"token {MARK} and {MARK} and {MARK}; abc stays"


def test_log_lines_are_redacted_after_formatting_tracebacks_included(tmp_path: Path) -> None:
    """A secret passed as a log argument, and one inside an exception's message logged with
    log.exception (the service's runner does), never reach the job's log file."""
    register_secret("sk-live-0123456789", "eyJ.secret-token.sig")
    logger = logging.getLogger("bulkio.test")
    with job_log(tmp_path) as path:
        logger.info("sending %s to %s", "sk-live-0123456789", "the server")
        try:
            raise RuntimeError("refused: Authorization: Bearer eyJ.secret-token.sig")
        except RuntimeError:
            logger.exception("job failed")
    text = path.read_text()
    assert "Traceback" in text and "RuntimeError: refused: Authorization: Bearer" in text
    assert "sk-live-0123456789" not in text and "eyJ.secret-token.sig" not in text
    assert text.count(MARK) >= 2  # the argument, the message (and the raising line, if shown)
