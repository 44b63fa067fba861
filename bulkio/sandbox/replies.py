"""Answers in the API's shapes, and reading requests, for every sandbox route."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


class Reply(Exception):
    """Raised by a handler's helpers to answer at once (an error, usually)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), headers=headers,
                        content_type="application/json")


def failure(status: int, error: str, error_type: str, details: str | None = None,
            recommendation: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"success": False, "error": error, "errorType": error_type}
    if details:
        body["details"] = details
    if recommendation:
        body["recommendation"] = recommendation
    return answer(status, body, headers)


def raw_answer(status: int, text: str) -> web.Response:
    """An answer whose JSON was assembled from stored JSON fragments."""
    return web.Response(status=status, body=text.encode(), content_type="application/json")


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise Reply(failure(400, "A JSON body is required", "missing_required_field"))
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Reply(failure(400, "The body is not valid JSON", "invalid_format", str(exc))) from None


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise Reply(failure(400, "The body must be a JSON object", "invalid_format"))
    return body


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise Reply(failure(400, f"{name} must be a whole number", "invalid_value")) from None
    if value < low:
        raise Reply(failure(400, f"{name} must be at least {low}", "invalid_value"))
    return min(value, high)  # above the maximum, the API serves the maximum


def required(mapping: Any, name: str) -> str:
    value = mapping.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Reply(failure(400, f"{name} is required", "missing_required_field"))
    return value
