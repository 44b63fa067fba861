"""A real `bulkio serve` process against an in-process sandbox, and raw HTTP to it."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.processes import environment


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, latency_ms=(1, 5))


@dataclass
class Served:
    url: str
    token: str
    proc: Any
    data_dir: Path
    stderr: Path
    stderr_file: Any
    announced: dict[str, str]

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def serve_argv(sb: Sandbox, data_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", "serve", "--port", "0", "--data-dir", str(data_dir),
            "--base-url", sb.base_url, "--rate", "unlimited", "--settle", "1", *extra]


async def start_service(sb: Sandbox, tmp_path: Path, *extra: str,
                        data_dir: Path | None = None, umask: str | None = None) -> Served:
    data_dir = data_dir or tmp_path / "data"
    stderr = tmp_path / f"serve-{len(list(tmp_path.glob('serve-*.log')))}.log"
    sink = stderr.open("wb")
    argv = serve_argv(sb, data_dir, *extra)
    if umask is not None:  # as a shell with that umask starts it
        argv = ["sh", "-c", f'umask {umask} && exec "$@"', "sh", *argv]
    proc = await anyio.open_process(argv,
                                    env=environment(sb, tmp_path), stdout=subprocess.PIPE,
                                    stderr=sink)
    assert proc.stdout is not None
    with anyio.fail_after(30):
        line = b""
        while not line.endswith(b"\n"):
            chunk = await proc.stdout.receive(1)
            line += chunk
    info = orjson.loads(line)
    return Served(info["url"], token_of(info), proc, data_dir, stderr, sink, info)


def token_of(announced: dict[str, str]) -> str:
    """The service token from serve's first line: in it at the first start, else in the
    0600 file it names."""
    if "token" in announced:
        assert "token_file" not in announced
        return announced["token"]
    return Path(announced["token_file"]).read_text(encoding="ascii").strip()


async def stop_service(served: Served, sig: int = signal.SIGTERM) -> int:
    if served.proc.returncode is None:
        served.proc.send_signal(sig)
    with anyio.fail_after(30):
        await served.proc.wait()
    served.stderr_file.close()
    await served.proc.aclose()
    return int(served.proc.returncode)


@pytest.fixture
async def service(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Served]:
    served = await start_service(sandbox, tmp_path)
    try:
        yield served
    finally:
        await stop_service(served)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
