"""Real `bulkio sync hubspot:contacts` processes against a living portal (the twin's churn:
edits, new contacts, changed emails, archives, merges while the syncs run), killed with
SIGKILL mid-run and continued with --resume: once the portal holds still, one more run leaves
the client equal to the mapped portal, every contact once; the token in no output or file;
two syncs of one state refused; a run trying again what the first could not write, killed
mid-way and continued."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.cli.test_private_files import assert_private
from tests.conftest import MakeSandbox
from tests.ops.sync.test_sync import (
    add_new_contacts,
    assert_in_step,
    assert_in_step_before,
    with_email,
)
from tests.processes import environment, stop_after

pytestmark = pytest.mark.slow  # real processes, a living portal


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, hubspot_contacts=500,
                         hubspot_rate=None, hubspot_search_rate=None, latency_ms=(1, 5),
                         hubspot_churn=600, chaos_seed=8)


def argv(tmp_path: Path, *extra: str) -> list[str]:
    """The command, under umask 022 (the usual one: the state must be private all the same)."""
    return ["sh", "-c", 'umask 022 && exec "$@"', "sh",
            sys.executable, "-m", "bulkio", "sync", "hubspot:contacts", "--client", "acme-corp",
            "--state-dir", str(tmp_path / "state"), "--lookback", "2s", "--settle", "0.5",
            "--archived", "delete", "--report", str(tmp_path / "report.json"), "--rate", "60000",
            "--hubspot-rate", "unlimited", "--hubspot-search-rate", "unlimited", *extra]


def env(sb: Sandbox, tmp_path: Path) -> dict[str, str]:
    return {**environment(sb, tmp_path), "HUBSPOT_ACCESS_TOKEN": sb.hubspot_token,
            "HUBSPOT_BASE_URL": sb.base_url, "LEADGENIUS_BASE_URL": sb.base_url}


def failed(tmp_path: Path) -> int:
    return int(orjson.loads((tmp_path / "report.json").read_bytes())["failed"])


async def run(sb: Sandbox, tmp_path: Path, *extra: str) -> tuple[int, bytes, bytes]:
    with anyio.fail_after(120):
        done = await anyio.run_process(argv(tmp_path, *extra), env=env(sb, tmp_path),
                                       check=False)
    return done.returncode, done.stdout, done.stderr


async def test_killed_twice_in_a_living_portal_then_in_step(sandbox: Sandbox,
                                                            tmp_path: Path) -> None:
    code, out, err = await run(sandbox, tmp_path)
    assert code in (0, 1) and failed(tmp_path) == 0, err.decode()  # 1: contacts without email
    store, now = sandbox.hubspot.store, int(time.time() * 1000)
    for cid in with_email(sandbox, 300):
        store.modify(cid, {"jobtitle": f"Head of {cid}"}, now)
    puts = sandbox.state.counts["PUT /api/leads"]
    code, err = await stop_after(sandbox, argv(tmp_path), env(sb=sandbox, tmp_path=tmp_path),
                                 event="PUT /api/leads", count=puts + 2, sig=signal.SIGKILL)
    assert code == -signal.SIGKILL
    code, out, err2 = await run(sandbox, tmp_path, "--resume")
    assert code in (0, 1) and failed(tmp_path) == 0, err2.decode()  # 1: contacts without email
    assert b"continuing run" in err2

    add_new_contacts(sandbox, 20_000, 80, "New")
    posts = sandbox.state.counts["POST /api/leads"]
    code, err = await stop_after(sandbox, argv(tmp_path), env(sb=sandbox, tmp_path=tmp_path),
                                 event="POST /api/leads", count=posts + 30, sig=signal.SIGKILL)
    assert code == -signal.SIGKILL
    code, out, err3 = await run(sandbox, tmp_path)  # the next run continues it
    assert code in (0, 1) and failed(tmp_path) == 0, err3.decode()  # 1: contacts without email
    for _ in range(2):  # runs with the portal changing during them
        started = int(time.time() * 1000)
        code, _, err5 = await run(sandbox, tmp_path)
        assert code in (0, 1) and failed(tmp_path) == 0, err5.decode()
        assert_in_step_before(sandbox, started)

    sandbox.hubspot.config.hubspot_churn = 0  # the portal holds still: one more run, then check
    await anyio.sleep(0.3)  # a tick already under way ends (the churn's own 0.25 s clock)
    code, out, err4 = await run(sandbox, tmp_path)
    assert code in (0, 1) and failed(tmp_path) == 0, err4.decode()  # 1: contacts without email
    assert_in_step(sandbox)
    assert any(kind in ("email", "merge", "archive") for kind, _, _ in sandbox.hubspot.changes)

    token = sandbox.hubspot_token.encode()
    assert all(token not in text for text in (out, err, err2, err3, err4))
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert token not in path.read_bytes(), path
    assert orjson.loads((tmp_path / "report.json").read_bytes())["status"] == "finished"
    assert_private(tmp_path / "state")


async def test_killed_while_trying_again_what_the_first_run_could_not_write(
        make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    """A first run whose import could not write some contacts (201s that stored nothing);
    the next run, trying them again after a listing of the client, killed mid-way; the run
    after continues it under the same rules: every contact's lead once."""
    async with make_sandbox(quota_per_minute=None, clients=1, hubspot_contacts=500,
                            hubspot_rate=None, hubspot_search_rate=None, latency_ms=(1, 5),
                            single_persist=0.6, chaos_seed=9) as sb:
        code, _, err = await run(sb, tmp_path)
        first = failed(tmp_path)
        assert code == 1 and first > 20, err.decode()
        sb.config.single_persist = 1.0
        posts = sb.state.counts["POST /api/leads"]
        code, err = await stop_after(sb, argv(tmp_path), env(sb, tmp_path),
                                     event="POST /api/leads", count=posts + 10,
                                     sig=signal.SIGKILL)
        assert code == -signal.SIGKILL
        code, out, err = await run(sb, tmp_path, "--resume")
        assert code in (0, 1) and failed(tmp_path) == 0, err.decode()  # 1: no email
        report = orjson.loads((tmp_path / "report.json").read_bytes())
        assert report["carried"] == report["created"] + report["updated"] == first
        assert f"or tried again ({first} failed in the run before)".encode() in out
        assert_in_step(sb)


async def test_two_syncs_of_one_state_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.hubspot.config.hubspot_churn = 0
    hold = sandbox.state.hold("GET /crm/v3/objects/contacts")
    async with await anyio.open_process(argv(tmp_path), env=env(sandbox, tmp_path)) as first:
        with anyio.fail_after(30):
            while not sandbox.state.counts["GET /crm/v3/objects/contacts"]:
                await anyio.sleep(0.05)
        code, _, err = await run(sandbox, tmp_path)
        assert code == 2 and b"is running now" in err and len(err.splitlines()) == 1
        hold.set()
        with anyio.fail_after(60):
            assert await first.wait() in (0, 1)


async def test_every_runs_again_until_interrupted(sandbox: Sandbox, tmp_path: Path) -> None:
    """--every: the first run, then one each period; Ctrl-C ends it with 130 (a run it
    interrupts is continued by the next command)."""
    sandbox.hubspot.config.hubspot_churn = 0
    code, err = await stop_after(sandbox, argv(tmp_path, "--every", "0.2s"), env(sandbox, tmp_path),
                                 event="POST /crm/v3/objects/contacts/search", count=3,
                                 sig=signal.SIGINT)
    assert code == 130 and b"Traceback" not in err
    runs = sorted(int(p.name) for p in (tmp_path / "state" / "runs").iterdir())
    assert runs[:3] == [1, 2, 3]
    code, _, err = await run(sandbox, tmp_path)
    assert code in (0, 1) and failed(tmp_path) == 0, err.decode()
    assert_in_step(sandbox)


async def test_with_every_a_failed_run_is_said_and_the_next_one_continues_it(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """HubSpot goes down during a run of `--every`: the run fails (said in one line, with
    the retries spent), the loop goes on, and the next run, HubSpot back, continues it."""
    sandbox.hubspot.config.hubspot_churn = 0
    search = "POST /crm/v3/objects/contacts/search"
    second_run = sandbox.state.when(search, 1)
    err = bytearray()
    async with await anyio.open_process(argv(tmp_path, "--every", "0.2s"),
                                        env=env(sandbox, tmp_path),
                                        stderr=subprocess.PIPE) as proc:
        assert proc.stderr is not None
        stream = proc.stderr
        with anyio.fail_after(90):
            await second_run.wait()  # the first run (the import) is over
            sandbox.hubspot.config.hubspot_down = True
            async for chunk in stream:
                err.extend(chunk)
                if b"bulkio: error:" in err:
                    break
            sandbox.hubspot.config.hubspot_down = False
            searched = sandbox.state.counts[search]
            await sandbox.state.when(search, searched + 2).wait()  # a run, and the next
        proc.send_signal(signal.SIGINT)
        with anyio.fail_after(30):
            async for chunk in stream:
                err.extend(chunk)
            assert await proc.wait() == 130
    said = err.decode()
    assert "HubSpot did not answer" in said and "continuing run 2" in said
    assert "Traceback" not in said
    assert_in_step(sandbox)
