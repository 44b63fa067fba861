"""Reading the API's answers: success envelopes, and error answers turned into exceptions."""

from __future__ import annotations

from typing import Any

from ..errors import ApiError, LeadRejected, RateLimited, TransientApiError, Unauthorized
from ..http.quota import parse_retry_after
from ..http.transport import Response

#: The single-lead POST's answer to a payload it cannot store (empty string, `phone`, ...).
VALIDATION_500 = "Failed to create lead - no data returned"
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


def error_for(resp: Response, method: str, path: str) -> ApiError:
    """The exception that a non-2xx answer means."""
    body = resp.json()
    body = body if isinstance(body, dict) else {}
    message = str(body.get("error") or body.get("message") or _reason(resp))
    kwargs = {"method": method, "path": path}
    error_type = str(body.get("errorType", ""))
    recommendation = str(body.get("recommendation", ""))
    if resp.status == 429:
        wait = parse_retry_after(resp.headers.get("Retry-After"))
        return RateLimited(wait if wait is not None else 60.0, **kwargs)
    if resp.status == 401:
        return Unauthorized(401, message, error_type, recommendation, **kwargs)
    if resp.status == 500 and message == VALIDATION_500:
        return LeadRejected(500, message, error_type, recommendation, **kwargs)
    if resp.status in TRANSIENT_STATUSES:
        return TransientApiError(resp.status, message, error_type, recommendation, **kwargs)
    return ApiError(resp.status, message, error_type, recommendation, **kwargs)


def success_body(resp: Response, method: str, path: str) -> dict[str, Any]:
    """The JSON object of a 2xx answer; an ApiError when it is not one."""
    body = resp.json()
    if not isinstance(body, dict):
        raise TransientApiError(resp.status, "the answer is not a JSON object",
                                method=method, path=path)
    return body


def _reason(resp: Response) -> str:
    text = resp.body[:200].decode("utf-8", "replace").strip()
    return text or f"HTTP {resp.status}"
