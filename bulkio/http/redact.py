"""Keeping secrets out of every line bulkio writes.

Secrets are registered as they become known (settings, fresh tokens); the formatter of every
handler, and `redact()` for anything printed directly, replace them with a marker. It is the
formatted line that is cleaned, traceback included: a filter runs before the traceback is
formatted, so a token in an exception's message passed through one.
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


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line (message, traceback, stack) has no registered secret."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
