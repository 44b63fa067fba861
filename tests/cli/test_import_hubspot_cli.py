"""`bulkio import hubspot:...` as a user runs it: a real process killed with SIGKILL and
resumed; the HubSpot token in no output and no file; a missing scope in one line."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import anyio
import pytest

from bulkio.cli.main import main
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.imports.test_hubspot import expected_contacts, stored
from tests.ops.imports.test_import import server_emails
from tests.processes import environment, stop_after


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, hubspot_contacts=1500,
                         hubspot_leads_v1=300, hubspot_rate=None, latency_ms=(1, 5), chaos_seed=4)


def hubspot_env(sb: Sandbox, tmp_path: Path) -> dict[str, str]:
    return {**environment(sb, tmp_path), "HUBSPOT_ACCESS_TOKEN": sb.hubspot_token,
            "HUBSPOT_BASE_URL": sb.base_url}


@pytest.mark.slow
async def test_sigkill_then_resume_every_contact_once(sandbox: Sandbox, tmp_path: Path) -> None:
    """kill -9 with contacts in flight; --resume continues from the saved cursor and never
    sends a contact twice (its HubSpot id is its key in the journal)."""
    argv = [sys.executable, "-m", "bulkio", "import", "hubspot:contacts", "--client", "acme-corp",
            "--base-url", sandbox.base_url, "--rate", "unlimited", "--settle", "0",
            "--job-dir", str(tmp_path / "job"), "--quiet"]
    code, _ = await stop_after(sandbox, argv, hubspot_env(sandbox, tmp_path),
                               event="POST /api/leads", count=400, sig=signal.SIGKILL)
    assert code == -signal.SIGKILL and 0 < len(stored(sandbox)) < 1400
    with anyio.fail_after(120):
        done = await anyio.run_process([*argv, "--resume"], env=hubspot_env(sandbox, tmp_path),
                                       check=False)
    assert done.returncode == 1, done.stderr.decode()  # contacts without an email: rejected
    assert set(stored(sandbox)) == set(expected_contacts(sandbox))
    assert set(server_emails(sandbox).values()) == {1}


@pytest.mark.slow
async def test_the_token_is_in_no_output_and_no_file(sandbox: Sandbox, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """From a token file, through verbose logs, retries and the v1 API (which takes it in the
    query string), a dry run, rejects and reports: the token is written nowhere."""
    for key, value in environment(sandbox, tmp_path).items():
        monkeypatch.setenv(key, value)
    token_file = tmp_path / "hubspot.token"
    token_file.write_text(sandbox.hubspot_token + "\n")
    sandbox.config.error_rate = 0.1
    common = ["--client", "acme-corp", "--base-url", sandbox.base_url, "--rate", "unlimited",
              "--settle", "0", "--hubspot-token-file", str(token_file),
              "--hubspot-base-url", sandbox.base_url, "-vv"]
    for kind in ("contacts", "leads-v1"):
        for extra in (["--dry-run"], ["--job-dir", str(tmp_path / f"job-{kind}")]):
            await anyio.to_thread.run_sync(main, ["import", f"hubspot:{kind}", *common, *extra])
    out, err = capsys.readouterr()
    assert "retrying" in err and "GET /leads/v1/list: HTTP 200" in err  # the logs did talk
    assert sandbox.hubspot_token not in out + err
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != token_file]
    assert any(p.name == "rejects.ndjson" for p in written) and len(written) > 8
    for path in written:
        assert sandbox.hubspot_token.encode() not in path.read_bytes(), path


async def test_a_missing_scope_is_one_line_and_exit_2(sandbox: Sandbox, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in hubspot_env(sandbox, tmp_path).items():
        monkeypatch.setenv(key, value)
    sandbox.config.hubspot_scopes = ("crm.objects.contacts.read",)
    code = await anyio.to_thread.run_sync(main, ["import", "hubspot:contacts", "--client",
                                                 "acme-corp", "--base-url", sandbox.base_url,
                                                 "--job-dir", str(tmp_path / "j")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "lacks the scope crm.objects.companies.read" in err and "--resume" not in err


async def test_the_daily_cap_stops_with_exit_75_and_the_resume_command(
        sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """HubSpot's daily quota used up mid-run: a stop to resume later (exit 75), in one error
    line with the command that resumes; resumed once the quota is back, it finishes."""
    for key, value in hubspot_env(sandbox, tmp_path).items():
        monkeypatch.setenv(key, value)
    sandbox.config.hubspot_daily = 6
    argv = ["import", "hubspot:contacts", "--client", "acme-corp", "--base-url",
            sandbox.base_url, "--rate", "unlimited", "--settle", "0", "--job-dir",
            str(tmp_path / "job"), "--quiet"]
    assert await anyio.to_thread.run_sync(main, argv) == 75
    err = capsys.readouterr().err
    assert "daily request quota is used up" in err and "--resume" in err
    sandbox.config.hubspot_daily = None
    assert await anyio.to_thread.run_sync(main, [*argv, "--resume"]) == 1  # rows without email
    assert set(stored(sandbox)) == set(expected_contacts(sandbox))
