"""Credentials on the wire: which headers a request carries, and keeping the JWT fresh.

- The token is renewed shortly before its `exp` (a tenth of its lifetime, at most 60 s), and
  again when the server answers 401 anyway (clock skew, revocation).
- One renewal at a time however many requests are waiting (single flight): the first worker
  renews under a lock; the others find a newer token when they get the lock and go on.
- Renewal uses the refresh token; if it is refused, a password login when email and password
  are known; otherwise the run stops with a one-line AuthError saying how to log in.
- A renewed token is written back to the auth file it came from.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

import anyio
import orjson

from ..errors import AuthError, ServerUnreachable, TransientApiError, TransportError, Unauthorized
from ..http.redact import register_secret
from ..http.retry import RetryPolicy, call_with_retries
from ..http.stats import RunStats
from ..http.transport import Request, Transport
from . import jwt
from .authfile import update_auth_file
from .settings import Settings
from .wire import error_for, success_body

log = logging.getLogger("bulkio.auth")

NO_CREDENTIALS = ("no LeadGenius credentials: run `bulkio auth login`, or set LEADGENIUS_EMAIL and "
                  "LEADGENIUS_PASSWORD (or LEADGENIUS_API_KEY and LEADGENIUS_USER_ID)")


class AuthMode(Enum):
    JWT = "jwt"  # Bearer, or the API-key pair when there is no JWT to be had
    API_KEY = "api_key"  # the bulk list endpoints take nothing else


class Authenticator:
    def __init__(self, settings: Settings, transport: Transport, policy: RetryPolicy,
                 stats: RunStats, *, wall: Callable[[], float] = time.time) -> None:
        creds = settings.credentials
        self._settings = settings
        self._transport = transport
        self._policy = policy
        self._stats = stats
        self._wall = wall
        self._token = creds.token
        self._refresh_token = creds.refresh_token
        self._email = creds.email
        self._password = creds.password
        self._api_key = creds.api_key
        self._user_id = creds.user_id or (jwt.subject(creds.token) if creds.token else None)
        self._lock = anyio.Lock()
        self._renew_at_for: str | None = None  # the token _renew_at was computed for
        self._renew_at: float | None = None
        register_secret(*creds.secrets())

    # -- what a request carries ------------------------------------------------------------

    @property
    def user_id(self) -> str | None:
        return self._user_id

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def can_renew(self) -> bool:
        return bool(self._refresh_token or (self._email and self._password))

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key and self._user_id)

    async def headers(self, mode: AuthMode) -> tuple[dict[str, str], str | None]:
        """The auth headers for one attempt, and the token they carry (None for the API key)."""
        if mode is AuthMode.API_KEY:
            if not self.has_api_key:
                raise AuthError("the bulk list endpoints need an API key: set LEADGENIUS_API_KEY "
                                "and LEADGENIUS_USER_ID, or run `bulkio auth login --api-key`")
            return self._api_key_headers(), None
        if self._token or self.can_renew:
            token = await self.fresh_token()
            return {"Authorization": f"Bearer {token}"}, token
        if self.has_api_key:
            return self._api_key_headers(), None
        raise AuthError(NO_CREDENTIALS)

    def _api_key_headers(self) -> dict[str, str]:
        assert self._api_key and self._user_id
        return {"x-api-key": self._api_key, "x-user-id": self._user_id}

    # -- keeping the token fresh ----------------------------------------------------------

    def expires_in(self) -> float | None:
        """Seconds until the current token expires (negative once expired); None if unknown."""
        exp = jwt.expires_at(self._token) if self._token else None
        return None if exp is None else exp - self._wall()

    def _is_expiring(self, token: str) -> bool:
        """Within a tenth of its lifetime (at most 60 s) of `exp`; read once per token."""
        if self._renew_at_for != token:
            exp = jwt.expires_at(token)
            margin = min(60.0, (jwt.lifetime(token) or 3600.0) / 10)
            self._renew_at_for = token
            self._renew_at = None if exp is None else exp - margin
        # No exp: nothing to go on, the server's 401 will tell.
        return self._renew_at is not None and self._wall() >= self._renew_at

    async def fresh_token(self) -> str:
        token = self._token
        if token is None or self._is_expiring(token):
            await self.renew(stale=token)
        assert self._token is not None
        return self._token

    async def renew(self, stale: str | None) -> None:
        """Replace the token `stale`, unless another task already has (single flight)."""
        async with self._lock:
            current = self._token
            if current is not None and current != stale and not self._is_expiring(current):
                return
            await self._renew()

    async def _renew(self) -> None:
        tokens = None
        if self._refresh_token:
            try:
                tokens = await self._post("/api/auth/refresh", {"refreshToken": self._refresh_token})
                self._stats.refreshes += 1
            except Unauthorized:
                log.warning("the refresh token was refused%s",
                            "; logging in again with the password" if self._password else "")
                self._refresh_token = None
        if tokens is None and self._email and self._password:
            tokens = await self.login(self._email, self._password)
        if tokens is None:
            raise AuthError("the access token has expired and cannot be renewed: run "
                            "`bulkio auth login`, or set LEADGENIUS_EMAIL and LEADGENIUS_PASSWORD")
        self.accept(tokens)

    async def login(self, email: str, password: str) -> dict[str, Any]:
        """POST /api/auth; the `tokens` object. AuthError when the password is refused."""
        try:
            tokens = await self._post("/api/auth", {"username": email, "password": password})
        except Unauthorized:
            raise AuthError(f"login refused for {email}: wrong email or password "
                            "(check LEADGENIUS_EMAIL and LEADGENIUS_PASSWORD)") from None
        self._stats.logins += 1
        self._email = email
        return tokens

    def accept(self, tokens: dict[str, Any]) -> None:
        """Use these tokens from now on (after a login, say)."""
        token = tokens.get("accessToken")
        if not isinstance(token, str) or not token:
            raise AuthError("the auth endpoint answered without an access token")
        self._token = token
        self._refresh_token = tokens.get("refreshToken") or self._refresh_token
        self._user_id = jwt.subject(token) or self._user_id
        register_secret(token, self._refresh_token, tokens.get("idToken"))
        if self._settings.write_back:
            update_auth_file(self._settings.auth_file, {
                "token": token, "id_token": tokens.get("idToken") or "",
                "refresh_token": self._refresh_token or "", "user_id": self._user_id or ""})

    async def _post(self, path: str, body: dict[str, str]) -> dict[str, Any]:
        """An auth call: retried like any idempotent call, but outside the quota."""
        request = Request("POST", self._settings.base_url + path, body=orjson.dumps(body),
                          headers={"Content-Type": "application/json"})

        async def attempt() -> dict[str, Any]:
            self._stats.requests += 1
            resp = await self._transport.send(request)
            if not resp.ok:
                raise error_for(resp, "POST", path)
            tokens = success_body(resp, "POST", path).get("tokens")
            if not isinstance(tokens, dict):
                raise AuthError(f"POST {path} answered without tokens")
            return tokens

        def count_retry(_error: Exception, _delay: float) -> None:
            self._stats.retries += 1

        try:
            return await call_with_retries(self._policy, attempt, what=("POST", path),
                                           on_retry=count_retry)
        except (TransportError, TransientApiError) as error:
            # The request that needed the token must not retry this whole login again: that
            # would nest one retry budget in another (and send the password each time).
            raise ServerUnreachable(f"POST {path} failed {self._policy.attempts} times "
                                    f"({error}): cannot get a token from "
                                    f"{self._settings.base_url}; try again later") from None
