"""Keeping secrets out of every line bulkio writes.

Secrets are registered as they become known (settings, fresh tokens); a logging filter on
every handler, and `redact()` for anything printed directly, replace them with a marker.
"""

from __future__ import annotations

import logging
import threading

MARK = "[redacted]"
_MIN_LENGTH = 6  # shorter strings would redact ordinary words

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(*values: str | None) -> None:
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= _MIN_LENGTH)


def forget_secrets() -> None:
    with _lock:
        _secrets.clear()


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MARK)
    return text


class RedactingFilter(logging.Filter):
    """Formats the record, then strips any registered secret from the message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
