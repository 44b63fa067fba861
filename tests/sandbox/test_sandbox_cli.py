"""`bulkio sandbox` as users and scripts run it: a real process, one JSON line, then serving."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import orjson
import pytest

from bulkio.sandbox.config import parse_latency, parse_quota
from bulkio.sandbox.seed import seed
from bulkio.sandbox.store import Store

KEYS = {"base_url", "email", "password", "api_key", "user_id", "company_id", "token", "hubspot_token",
        "legacy_api_key"}


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bulkio", "sandbox", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def first_line(proc: subprocess.Popen[bytes]) -> dict[str, str]:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the server listens: no polling
    assert line, proc.stderr.read().decode() if proc.stderr else ""
    return dict(orjson.loads(line))


def stop(proc: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """SIGTERM, then the exit code and whatever else it printed on stdout."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out


async def test_prints_one_json_line_then_serves_and_stops_on_sigterm() -> None:
    """The JSON line has its nine fields; its token works; SIGTERM ends it with code 0."""
    proc = start("--clients", "2", "--leads", "20", "--quota", "premium")
    try:
        info = first_line(proc)
        assert set(info) == KEYS and info["base_url"].startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession() as session, session.get(
                info["base_url"] + "/api/clients",
                headers={"Authorization": f"Bearer {info['token']}"}) as resp:
            assert resp.status == 200
            assert resp.headers["X-RateLimit-Limit"] == "1000"
            assert len((await resp.json())["clients"]) == 2
    finally:
        code, rest = stop(proc)
    assert code == 0
    assert rest == b""  # exactly one line


async def test_db_file_keeps_data_and_credentials_across_restarts(tmp_path: Path) -> None:
    """--db FILE: a second run, with the same starting-data flags, sees the first run's data
    as it was (not made twice; --hubspot-contacts once failed on its own companies), with the
    same password, and says so."""
    db = str(tmp_path / "rehearsal.db")
    made = ("--db", db, "--clients", "1", "--leads", "5", "--hubspot-contacts", "20")
    proc = start(*made)
    first = first_line(proc)
    assert stop(proc)[0] == 0
    proc = start(*made)
    try:
        second = first_line(proc)
        assert second["password"] == first["password"] and second["api_key"] == first["api_key"]
        async with aiohttp.ClientSession() as session:
            async with session.get(second["base_url"] + "/api/clients",
                                   headers={"Authorization": f"Bearer {second['token']}"}) as resp:
                assert len((await resp.json())["clients"]) == 1
            async with session.get(second["base_url"] + "/crm/v3/objects/contacts",
                                   params={"limit": "100"}, headers={
                                       "Authorization": f"Bearer {second['hubspot_token']}"}) as resp:
                assert resp.status == 200 and len((await resp.json())["results"]) == 20
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    said = err.decode()
    assert proc.returncode == 0, said
    assert "reopened" in said and "5 leads stored" in said and "20 contacts" in said


def test_a_bad_knob_is_a_one_line_usage_error() -> None:
    """An unparseable knob exits 2 with one line naming the fix."""
    result = subprocess.run([sys.executable, "-m", "bulkio", "sandbox", "--quota", "gold"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "quota must be standard, premium, unlimited or a number" in result.stderr


@pytest.mark.parametrize(("text", "value"), [("standard", 100), ("premium", 1000),
                                             ("unlimited", None), ("6000", 6000)])
def test_quota_values(text: str, value: int | None) -> None:
    """--quota takes the tiers, unlimited, or N a minute."""
    assert parse_quota(text) == value


def test_latency_values() -> None:
    """--latency-ms takes MS or MIN-MAX."""
    assert parse_latency("50") == (50.0, 50.0)
    assert parse_latency("50-2000") == (50.0, 2000.0)


def test_seeding_spreads_leads_evenly_with_unique_emails() -> None:
    """--clients N --leads M: M leads in all, spread evenly, every email unique."""
    import random

    store = Store()
    user = store.ensure_user("seed@sandbox.local")
    clients = seed(store, user, 3, 1000, 10, random.Random(1))
    counts = [store.count_leads(user.company_id, str(c["client_id"])) for c in clients]
    assert counts == [334, 333, 333]
    emails = [r[0] for r in store.db.execute("SELECT json_extract(data, '$.email') FROM leads")]
    assert len(emails) == 1010 and len(set(emails)) == 1010
