"""Real HS256 JWTs for the sandbox: signed, with `sub` and `exp`, verified on every request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from typing import Any

import orjson


class TokenInvalid(Exception):
    """Malformed token or bad signature."""


class TokenExpired(Exception):
    """Well-formed and signed, but past its `exp`."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))


def sign(claims: dict[str, Any], secret: bytes) -> str:
    payload = _b64(orjson.dumps(claims))
    signing_input = f"{_HEADER}.{payload}".encode("ascii")
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{_HEADER}.{payload}.{_b64(signature)}"


def issue(sub: str, secret: bytes, ttl: float, token_use: str, **extra: Any) -> str:
    now = time.time()
    # Whole seconds, as real JWTs carry them; rounded up so a token lives at least `ttl`
    # (rounded down, a one-second token issued late in a second would be dead on arrival).
    claims = {"sub": sub, "iat": int(now), "exp": math.ceil(now + ttl), "token_use": token_use,
              "jti": secrets.token_hex(8), **extra}
    return sign(claims, secret)


def verify(token: str, secret: bytes, now: float | None = None) -> dict[str, Any]:
    """Return the claims of a valid token; raise TokenInvalid or TokenExpired."""
    try:
        header, payload, signature = token.split(".")
        signing_input = f"{header}.{payload}".encode("ascii")
        expected = hmac.new(secret, signing_input, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise TokenInvalid("bad signature")
        claims = orjson.loads(_unb64(payload))
    except (ValueError, UnicodeError, orjson.JSONDecodeError) as exc:
        raise TokenInvalid(str(exc)) from None
    if not isinstance(claims, dict) or "sub" not in claims or "exp" not in claims:
        raise TokenInvalid("missing sub or exp")
    if (time.time() if now is None else now) >= float(claims["exp"]):
        raise TokenExpired()
    return claims
