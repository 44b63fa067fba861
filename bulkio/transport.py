"""Moving one HTTP request: the Transport protocol, the aiohttp implementation, and a fake.

Every aiohttp and OS error is mapped to bulkio's own at this boundary (`mapped_errors`), so
nothing above it ever sees an aiohttp exception.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import orjson

from .errors import ConnectError, ResponseLost, TransportError

KEEPALIVE_S = 4.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    params: Mapping[str, str] | None = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # holds credentials

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The decoded body; None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None


class Transport(Protocol):
    async def send(self, request: Request) -> Response: ...


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Turn aiohttp/OS failures into ConnectError (never sent) or ResponseLost (maybe applied)."""
    try:
        yield
    except Exception as exc:
        raise mapped(exc) from None


def mapped(exc: Exception) -> Exception:
    """The bulkio error an aiohttp or OS error means; other exceptions as they are."""
    try:
        raise exc
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
        return ConnectError(f"cannot connect: {exc}")
    except (TimeoutError, aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
            aiohttp.ClientPayloadError, aiohttp.ServerTimeoutError) as exc:
        detail = f": {exc}" if str(exc) else ""
        return ResponseLost(f"no answer: {type(exc).__name__}{detail}")
    except aiohttp.ClientError as exc:
        return TransportError(f"HTTP failure: {type(exc).__name__}: {exc}")
    except OSError as exc:
        return ResponseLost(f"network error: {exc.strerror or exc}")
    except Exception as other:
        return other


class AiohttpTransport:
    """Sends over one shared aiohttp.ClientSession (one per run)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def send(self, request: Request) -> Response:
        try:  # a plain try, not mapped_errors(): this runs thousands of times a second
            async with self.session.request(
                request.method, request.url, params=request.params, data=request.body,
                headers=request.headers,
            ) as resp:
                body = await resp.read()
                return Response(resp.status, resp.headers, body)
        except Exception as exc:
            raise mapped(exc) from None


def open_session(concurrency: int, timeout: float) -> aiohttp.ClientSession:
    """One session per run: a connector sized to the concurrency, explicit timeouts."""
    # Idle connections are closed before the server's keep-alive can close them (Node's default
    # is 5 s): a POST written onto a connection the server is closing fails ambiguously.
    connector = aiohttp.TCPConnector(limit=concurrency + 4, limit_per_host=concurrency + 4,
                                     ttl_dns_cache=300, keepalive_timeout=KEEPALIVE_S)
    session = aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 10.0)),
        headers={"Content-Type": "application/json", "Accept": "application/json",
                 "User-Agent": "bulkio"},
        raise_for_status=False,
    )
    # aiohttp quietly resends an idempotent request once when a kept-alive connection drops.
    # That second request would bypass the quota limiter and the retry counts; bulkio's retry
    # policy decides instead. (The same switch aiohttp's own test client uses.)
    session._retry_connection = False
    return session


Handler = Callable[[Request], "Response | Awaitable[Response]"]


class FakeTransport:
    """A transport that answers from a function, for pure unit tests; records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[Request] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        result = self.handler(request)
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, Response)
        return result


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """Build a Response for FakeTransport handlers."""
    return Response(status, dict(headers or {}), orjson.dumps(body))
