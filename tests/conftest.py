"""Shared fixtures: a sandbox on 127.0.0.1:0 per test, raw HTTP to it, a clean environment."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest
from hypothesis import HealthCheck, settings

from bulkio.http.redact import forget_secrets
from bulkio.sandbox import Sandbox, SandboxConfig, run_sandbox

# Started from a script's background job, this process (and so every bulkio it starts) would
# ignore SIGINT, as POSIX has it: the tests that press Ctrl-C on a real bulkio need it heard.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Property tests share the machine with sandboxes and real processes (and, in parallel runs,
# with other workers): how fast an input is drawn is not what they test.
settings.register_profile("bulkio", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("bulkio")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker per core and one more (a third of the suite's time is spent waiting
    on sockets and real processes, which another worker can use), at most 8."""
    return min(8, (os.cpu_count() or 1) + 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first, so that in a parallel run none of them starts last and keeps the
    run waiting on one worker (the order is otherwise the files', kept)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No test sees the developer's credentials (LeadGenius's or HubSpot's), nor writes to
    ~/.leadgenius_auth.json (or the legacy API's file)."""
    for name in list(os.environ):
        if name.startswith(("LEADGENIUS_", "HUBSPOT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LEADGENIUS_AUTH_FILE", str(tmp_path / "auth.json"))
    monkeypatch.setenv("LEADGENIUS_LEGACY_AUTH_FILE", str(tmp_path / "legacy-auth.json"))
    monkeypatch.setenv("BULKIO_STATE_DIR", str(tmp_path / "state"))  # client locks: per test
    forget_secrets()


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Override in a module to change the default sandbox of its tests."""
    return SandboxConfig(quota_per_minute=None, clients=2, leads=10)


@pytest.fixture
async def sandbox(sandbox_config: SandboxConfig) -> AsyncIterator[Sandbox]:
    async with run_sandbox(sandbox_config) as sb:
        yield sb


MakeSandbox = Callable[..., AbstractAsyncContextManager[Sandbox]]


@pytest.fixture
def make_sandbox() -> MakeSandbox:
    """For tests that need a sandbox with particular knobs: `async with make_sandbox(...)`."""

    def make(**knobs: Any) -> AbstractAsyncContextManager[Sandbox]:
        knobs.setdefault("quota_per_minute", None)
        return run_sandbox(SandboxConfig(**knobs))

    return make


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any


class RawApi:
    """Plain aiohttp calls, independent of bulkio's client, for contract tests."""

    def __init__(self, session: aiohttp.ClientSession, sb: Sandbox) -> None:
        self.session = session
        self.sb = sb

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.sb.token}"}

    def api_key(self) -> dict[str, str]:
        return {"x-api-key": self.sb.api_key, "x-user-id": self.sb.user_id}

    async def call(self, method: str, path: str, *, json: Any = None,
                   params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                   auth: bool = True) -> Answer:
        h = dict(self.bearer() if auth and headers is None else {})
        h.update(headers or {})
        data = orjson.dumps(json) if json is not None else None
        if data is not None:
            h["Content-Type"] = "application/json"
        async with self.session.request(method, self.sb.base_url + path, data=data,
                                        params=params, headers=h) as resp:
            raw = await resp.read()
            body = orjson.loads(raw) if raw else None
            return Answer(resp.status, body, resp.headers)

    async def slugs(self) -> list[str]:
        return [c["client_id"] for c in (await self.call("GET", "/api/clients")).body["clients"]]

    async def all_leads(self, client_id: str) -> list[dict[str, Any]]:
        leads: list[dict[str, Any]] = []
        token = None
        while True:
            params = {"client_id": client_id, "limit": 1000}
            if token:
                params["nextToken"] = token
            page = (await self.call("GET", "/api/leads", params=params)).body
            leads += page["leads"]
            token = page.get("nextToken") or page.get("lastKey")
            if not token:
                return leads


@pytest.fixture
async def api(sandbox: Sandbox) -> AsyncIterator[RawApi]:
    async with aiohttp.ClientSession() as session:
        yield RawApi(session, sandbox)


def lead(client_id: str, **fields: Any) -> dict[str, Any]:
    """A valid single-lead payload."""
    base = {"client_id": client_id, "firstName": "Ada", "lastName": "Lovelace",
            "email": "ada@example.com"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}
