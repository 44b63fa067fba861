"""`bulkio campaign status` against the legacy twin: the usage and a campaign's counts, the
key kept out of everything printed, a refused key in one line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import aiohttp
import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, legacy_campaigns=True, legacy_allowance=1000,
                         legacy_enrich_seconds=(0.0, 0.0))


def env_for(sb: Sandbox, key: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGENIUS_")}
    env.update(LEADGENIUS_LEGACY_API_KEY=key or sb.legacy_api_key,
               LEADGENIUS_LEGACY_BASE_URL=sb.base_url,
               LEADGENIUS_LEGACY_AUTH_FILE=os.environ["LEADGENIUS_LEGACY_AUTH_FILE"])
    return env


async def test_usage_and_a_campaigns_counts(sandbox: Sandbox, tmp_path: Path) -> None:
    async with aiohttp.ClientSession(headers={
            "Authorization": f"Token {sandbox.legacy_api_key}"}) as http, http.post(
            sandbox.base_url + "/api/v1/enrichment/upload/", json={
                "slug": "spring", "type": "datahub",
                "records": [{"contact_email": f"c{i}@x.org"} for i in range(7)]}) as answer:
        assert answer.status == 201
    argv = [sys.executable, "-m", "bulkio", "campaign", "status", "spring"]
    done = await anyio.run_process([*argv, "--json"], env=env_for(sandbox), check=False)
    assert done.returncode == 0, done.stderr.decode()
    said = orjson.loads(done.stdout)
    assert said["campaign"] == {"slug": "spring", "count_uploaded": 7, "count_enriched": 7,
                                "uploaded_here": 0, "finalized_here": 0,  # not from here
                                "finalized_here_is_current": True}
    assert said["usage"]["current_period"]["remaining"] == 993
    table = await anyio.run_process(argv, env=env_for(sandbox), check=False)
    assert table.returncode == 0 and b"campaign spring" in table.stdout
    for output in (done.stdout, done.stderr, table.stdout, table.stderr):
        assert sandbox.legacy_api_key.encode() not in output


async def test_a_refused_key_is_one_line_and_exit_2(sandbox: Sandbox) -> None:
    done = await anyio.run_process([sys.executable, "-m", "bulkio", "campaign", "status"],
                                   env=env_for(sandbox, key="not-the-key"), check=False)
    lines = done.stderr.decode().strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1
    assert "refused the key" in lines[0] and "LEADGENIUS_LEGACY_API_KEY" in lines[0]
    assert "not-the-key" not in lines[0]
    none = await anyio.run_process([sys.executable, "-m", "bulkio", "campaign", "status"],
                                   env={**env_for(sandbox), "LEADGENIUS_LEGACY_API_KEY": ""},
                                   check=False)
    assert none.returncode == 2 and b"LEADGENIUS_LEGACY_API_KEY" in none.stderr


async def test_auth_login_legacy_saves_the_key_with_its_address(
        sandbox: Sandbox, tmp_path: Path) -> None:
    saved = tmp_path / "legacy.json"
    env = {**env_for(sandbox), "LEADGENIUS_LEGACY_AUTH_FILE": str(saved)}
    bulkio = [sys.executable, "-m", "bulkio"]
    wrong = await anyio.run_process([*bulkio, "auth", "login", "--legacy"],
                                    env={**env, "LEADGENIUS_LEGACY_API_KEY": "nope"},
                                    check=False)
    assert wrong.returncode == 2 and not saved.exists()  # a refused key is not saved
    done = await anyio.run_process([*bulkio, "auth", "login", "--legacy"], env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert saved.stat().st_mode & 0o777 == 0o600
    assert orjson.loads(saved.read_bytes()) == {"key": sandbox.legacy_api_key,
                                                "base_url": sandbox.base_url}
    assert sandbox.legacy_api_key.encode() not in done.stdout + done.stderr
    bare = {k: v for k, v in env.items()
            if k not in ("LEADGENIUS_LEGACY_API_KEY", "LEADGENIUS_LEGACY_BASE_URL")}
    status = await anyio.run_process([*bulkio, "campaign", "status", "--json"], env=bare,
                                     check=False)
    assert status.returncode == 0, status.stderr.decode()  # the saved key, at its address
    said = await anyio.run_process([*bulkio, "auth", "status", "--legacy"], env=bare,
                                   check=False)
    assert said.returncode == 0 and b"from the key file" in said.stdout
    assert sandbox.legacy_api_key.encode() not in said.stdout
    out = await anyio.run_process([*bulkio, "auth", "logout", "--legacy"], env=bare,
                                  check=False)
    assert out.returncode == 0 and not saved.exists()
    gone = await anyio.run_process([*bulkio, "campaign", "status"], env=bare, check=False)
    assert gone.returncode == 2 and b"auth login --legacy" in gone.stderr
