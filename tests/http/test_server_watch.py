"""A server that is not there, or accepts and never answers: said in seconds, in one line that
names it, with one request sent, never a retry budget nested in another."""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from bulkio.errors import ServerUnreachable
from bulkio.http.retry import NO_WAIT, RetryPolicy
from bulkio.http.transport import FakeTransport, Request, Response, ServerWatch, json_response
from bulkio.leadgenius.client import LeadGeniusClient
from bulkio.leadgenius.settings import Credentials, Settings


class SilentServer:
    """Accepts connections on 127.0.0.1 and never answers; counts what arrives."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while data := await reader.read(65536):
                self.requests += [line for line in data.split(b"\r\n") if b" HTTP/1.1" in line]
        finally:
            writer.close()


@pytest.fixture
async def silent() -> AsyncIterator[SilentServer]:
    server = SilentServer()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bulkio_clients(base_url: str, tmp_path: Path, *extra: str) -> tuple[int, str, float]:
    env = {"LEADGENIUS_EMAIL": "probe@example.com", "LEADGENIUS_PASSWORD": "probe-password-1",
           "LEADGENIUS_AUTH_FILE": str(tmp_path / "auth.json"), "PATH": "/usr/bin:/bin"}
    started = time.monotonic()
    with anyio.fail_after(60):  # the hang this guards against lasted 1,155 s
        done = await anyio.run_process([sys.executable, "-m", "bulkio", "clients", "--base-url",
                                        base_url, *extra], env=env, check=False)
    return done.returncode, done.stderr.decode(), time.monotonic() - started


async def test_a_server_that_accepts_and_never_answers(silent: SilentServer, tmp_path: Path) -> None:
    """One login sent, not 36; one line naming the server; exit 1 (a real process)."""
    url = f"http://127.0.0.1:{silent.port}"
    code, err, wall = await bulkio_clients(url, tmp_path, "--timeout", "2")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"no answer from {url} (--base-url, or LEADGENIUS_BASE_URL) within 2 s" in err
    assert silent.connections == 1 and silent.requests == [b"POST /api/auth HTTP/1.1"], wall
    assert "probe-password-1" not in err


async def test_a_closed_port_fails_at_once(tmp_path: Path) -> None:
    """Connection refused on first contact: one line naming the URL, no retries."""
    url = f"http://127.0.0.1:{closed_port()}"
    code, err, _ = await bulkio_clients(url, tmp_path)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"cannot connect to {url}" in err and "check the address" in err


def settings() -> Settings:
    creds = Credentials(email="a@x.com", password="password-123")
    return Settings(base_url="http://api.test", credentials=creds, rate_per_minute=None)


async def test_a_failing_login_is_tried_once_per_budget_not_inside_every_retry() -> None:
    """Login answering 503: POST /api/auth sent `attempts` times in all, then the run stops
    (the request that needed the token does not retry the whole login again)."""
    policy = RetryPolicy(attempts=6, base_delay=0.0, max_delay=0.0)
    transport = FakeTransport(lambda request: json_response(503, {"error": "busy"}))
    client = LeadGeniusClient(settings(), transport, policy=policy)
    with pytest.raises(ServerUnreachable, match=r"POST /api/auth failed 6 times .* cannot get a token"):
        await client.list_clients()
    assert [r.url for r in transport.requests] == ["http://api.test/api/auth"] * 6


async def test_after_first_contact_a_hang_is_retried_and_shown_as_waiting() -> None:
    """Once the server has answered, a hung request is an ordinary transient failure, and
    `waiting_s` counts how long answers have stopped coming (on an owned clock)."""
    now = [100.0]
    release = anyio.Event()

    async def handler(request: Request) -> Response:
        if request.url.endswith("/slow"):
            await release.wait()
        return json_response(200, {"ok": True})

    watch = ServerWatch(FakeTransport(handler), "http://api.test", patience=1.0,
                        clock=lambda: now[0])
    await watch.send(Request("GET", "http://api.test/fast"))
    assert watch.answered and watch.waiting_s() == 0.0
    async with anyio.create_task_group() as tg:
        tg.start_soon(watch.send, Request("GET", "http://api.test/slow"))
        await anyio.wait_all_tasks_blocked()
        now[0] += 42.0
        assert watch.waiting_s() == 42.0  # past the 1 s patience: no first-contact failure now
        release.set()
    assert watch.waiting_s() == 0.0


async def test_first_contact_timeout_is_final_not_retried() -> None:
    """A first request unanswered within the patience: ServerUnreachable, one request sent."""
    never = anyio.Event()

    async def handler(request: Request) -> Response:
        await never.wait()
        raise AssertionError

    fake = FakeTransport(handler)
    client = LeadGeniusClient(settings(), ServerWatch(fake, "http://api.test", patience=0.05),
                              policy=NO_WAIT)
    with pytest.raises(ServerUnreachable, match=r"no answer from http://api\.test"):
        await client.list_clients()
    assert len(fake.requests) == 1
