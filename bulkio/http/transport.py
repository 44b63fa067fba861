"""Moving one HTTP request: the Transport protocol, the aiohttp implementation, and a fake.

Every aiohttp and OS error is mapped to bulkio's own at this boundary (`mapped_errors`), so
nothing above it ever sees an aiohttp exception.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp
import anyio
import orjson

from ..errors import AnswerTimeout, ConnectError, ResponseLost, ServerUnreachable, TransportError

KEEPALIVE_S = 4.0


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    params: Mapping[str, str] | None = field(default=None, repr=False)  # may hold a v1 token
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
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        detail = f": {exc}" if str(exc) else ""
        return AnswerTimeout(f"no answer within the timeout ({type(exc).__name__}{detail})")
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError,
            aiohttp.ClientPayloadError) as exc:
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


class ServerWatch:
    """Wraps a transport to watch the server as a whole, not request by request.

    - First contact: until the server has answered once, a request that cannot connect, or
      gets no answer within `patience` seconds, fails at once and for good (ServerUnreachable,
      naming the server): a wrong URL or a server that accepts and never answers is said in
      seconds, not after a run's worth of retries.
    - Afterwards, `waiting_s()` says how long requests have been out with no answer coming
      back (0 when none is out), for progress displays.
    """

    def __init__(self, inner: Transport, base_url: str, patience: float,
                 clock: Callable[[], float] = time.monotonic,
                 setting: str = "--base-url, or LEADGENIUS_BASE_URL") -> None:
        self.inner = inner
        self.base_url = base_url
        self.setting = setting
        self.patience = patience
        self.answered = False
        self._clock = clock
        self._out = 0
        self._since = 0.0  # the last answer, or when requests went out after none was out

    async def send(self, request: Request) -> Response:
        if self._out == 0:
            self._since = self._clock()
        self._out += 1
        try:
            if self.answered:
                response = await self.inner.send(request)
            else:
                response = await self._first_contact(request)
        finally:
            self._out -= 1
        self._since = self._clock()
        return response

    async def _first_contact(self, request: Request) -> Response:
        where = f"{self.base_url} ({self.setting})"
        try:
            with anyio.fail_after(self.patience):
                response = await self.inner.send(request)
        except (TimeoutError, AnswerTimeout):
            raise ServerUnreachable(f"no answer from {where} within {self.patience:g} s: is it "
                                    "the API's address, and is it up?") from None
        except ConnectError as exc:
            raise ServerUnreachable(f"cannot connect to {where}: {exc}; check the address and "
                                    "the network") from None
        self.answered = True
        return response

    def waiting_s(self) -> float:
        """Seconds requests have been out without an answer coming back; 0 if none is out."""
        return self._clock() - self._since if self._out else 0.0


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


FIRST_CONTACT_S = 10.0


@asynccontextmanager
async def watched_transport(base_url: str, *, connections: int, timeout: float,
                            setting: str) -> AsyncIterator[ServerWatch]:
    """A run's transport to one server of its own (HubSpot's, the legacy API's): a session
    for the run, watched for first contact (`setting` names where its URL comes from)."""
    async with open_session(connections, timeout) as session:
        yield ServerWatch(AiohttpTransport(session), base_url,
                          patience=min(timeout, FIRST_CONTACT_S), setting=setting)
