"""Reading (not verifying) the claims of a JWT: bulkio needs `exp` and `sub`, nothing more."""

from __future__ import annotations

import base64
from typing import Any

import orjson


def claims(token: str) -> dict[str, Any]:
    """The payload of `token`; an empty dict when it is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


def expires_at(token: str) -> float | None:
    """The `exp` claim (epoch seconds), or None when the token does not say."""
    exp = claims(token).get("exp")
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


def subject(token: str) -> str | None:
    sub = claims(token).get("sub")
    return sub if isinstance(sub, str) and sub else None


def lifetime(token: str) -> float | None:
    """exp - iat, when both are present: how long tokens of this issuer live."""
    c = claims(token)
    exp, iat = c.get("exp"), c.get("iat")
    if isinstance(exp, (int, float)) and isinstance(iat, (int, float)) and exp > iat:
        return float(exp - iat)
    return None
