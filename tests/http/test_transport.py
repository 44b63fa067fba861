"""Every failure on the wire becomes a bulkio error at the transport boundary."""

from __future__ import annotations

import socket

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from bulkio.errors import ConnectError, ResponseLost, TransportError
from bulkio.http.transport import AiohttpTransport, Request, mapped_errors, open_session
from bulkio.sandbox import Sandbox

KEY = ConnectionKey("127.0.0.1", 1, False, True, None, None, None)


@pytest.mark.parametrize(("raised", "expected"), [
    (aiohttp.ClientConnectorError(KEY, OSError(111, "refused")), ConnectError),
    (aiohttp.ConnectionTimeoutError(), ConnectError),
    (aiohttp.ServerDisconnectedError(), ResponseLost),
    (aiohttp.ClientOSError(104, "reset"), ResponseLost),
    (aiohttp.ClientPayloadError("truncated"), ResponseLost),
    (aiohttp.ServerTimeoutError(), ResponseLost),
    (aiohttp.SocketTimeoutError(), ResponseLost),
    (TimeoutError(), ResponseLost),
    (aiohttp.InvalidURL("nope"), TransportError),
    (aiohttp.ClientError("other"), TransportError),
    (ConnectionResetError(104, "reset"), ResponseLost),
])
def test_every_failure_is_mapped(raised: BaseException, expected: type[Exception]) -> None:
    """No aiohttp or OS exception crosses the boundary unmapped."""
    with pytest.raises(expected), mapped_errors():
        raise raised


async def send(url: str, timeout: float = 5.0, token: str = "") -> None:
    async with open_session(4, timeout) as session:
        await AiohttpTransport(session).send(
            Request("GET", url, headers={"Authorization": f"Bearer {token}"}))


async def test_a_closed_port_is_a_connect_error() -> None:
    """Nothing listening: ConnectError, which is safe to retry even for a create."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectError):
        await send(f"http://127.0.0.1:{port}/api/clients")


async def test_a_dropped_connection_is_a_lost_response(sandbox: Sandbox) -> None:
    """The server hangs up: ResponseLost."""
    sandbox.config.drop_rate = 1.0
    with pytest.raises(ResponseLost):
        await send(sandbox.base_url + "/api/clients", token=sandbox.token)


async def test_a_slow_answer_is_a_lost_response(sandbox: Sandbox) -> None:
    """No answer within the timeout: ResponseLost."""
    sandbox.config.latency_ms = (2000.0, 2000.0)
    with pytest.raises(ResponseLost):
        await send(sandbox.base_url + "/api/clients", timeout=0.2, token=sandbox.token)
