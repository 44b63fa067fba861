"""The service's own access: one bearer token, made at first start and kept 0600 in the data
directory; the web page logs in with it (an HttpOnly, SameSite=Strict session cookie) and
sends a CSRF token with every state-changing request."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from ..store.files import check_output_dir, private_dir
from .store import ServiceStore

TOKEN_FILE = "service-token"
COOKIE = "bulkio_session"
SESSION_DAYS = 7


def _digest(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


def check_data_dir(data_dir: Path) -> None:
    """Refuse a --data-dir the service could not keep its files in, before it starts."""
    check_output_dir(data_dir, "--data-dir")


def load_or_create_token(data_dir: Path) -> tuple[str, bool]:
    """The service token, and whether it was made now (then it is printed once)."""
    path = data_dir / TOKEN_FILE
    if path.exists():
        token = path.read_text(encoding="ascii").strip()
        if token:
            return token, False
    private_dir(data_dir)
    token = "bks_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    return token, True


class Access:
    """Checks bearer tokens and sessions. A session is a random id; the service keeps only its
    digest (in service.db), for SESSION_DAYS, so a restart does not log the page out."""

    def __init__(self, token: str, store: ServiceStore) -> None:
        self.token = token
        self._key = hashlib.sha256(b"bulkio-csrf:" + token.encode()).digest()
        self.store = store

    def bearer_ok(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[7:].strip().encode(), self.token.encode())

    def login(self, token: str) -> str | None:
        """A new session id for the right token; None otherwise."""
        if not hmac.compare_digest(token.strip().encode(), self.token.encode()):
            return None
        session = secrets.token_urlsafe(32)
        self.store.add_session(_digest(session), time.time())
        return session

    def session_ok(self, session: str | None) -> bool:
        return bool(session) and self.store.has_session(
            _digest(session or ""), since=time.time() - SESSION_DAYS * 86400)

    def logout(self, session: str | None) -> None:
        self.store.drop_session(_digest(session or ""))

    def csrf_for(self, session: str) -> str:
        return hmac.new(self._key, session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf_for(session), sent or "")
