"""`bulkio auth login` on an account with no API key: it makes one when asked, offers it on
a terminal, and never shows it."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import anyio
import pytest

from bulkio.cli.main import main
from bulkio.leadgenius.authfile import load_auth_file
from bulkio.sandbox import Sandbox, SandboxConfig


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=3, api_key=False)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # an export's job directory goes there


class Terminal(io.StringIO):
    """Standard input as a person at a terminal types it."""

    def isatty(self) -> bool:
        return True


async def login(sb: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                *extra: str, typed: str | None = None) -> tuple[int, str]:
    monkeypatch.setenv("LEADGENIUS_PASSWORD", sb.password)
    monkeypatch.setattr("sys.stdin", Terminal(typed) if typed is not None else io.StringIO(""))
    code = await anyio.to_thread.run_sync(main, ["auth", "login", "--base-url", sb.base_url,
                                                 "--email", sb.email, *extra])
    out, err = capsys.readouterr()
    return code, out + err


def saved_key() -> str:
    return load_auth_file(Path(os.environ["LEADGENIUS_AUTH_FILE"])).get("api_key", "")


async def export_works(sb: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The saved key reaches the bulk list endpoint (a company export takes nothing else)."""
    out = tmp_path / "all.ndjson"
    code = await anyio.to_thread.run_sync(main, ["export", "--all", "--out", str(out),
                                                 "--rate", "unlimited"])
    assert code == 0, capsys.readouterr()
    assert len(out.read_text().splitlines()) == 3


async def test_create_api_key_makes_one_saves_it_and_never_shows_it(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    code, output = await login(sandbox, monkeypatch, capsys, "--create-api-key", "Import-Key")
    key = saved_key()
    assert code == 0 and re.fullmatch(r"lgp_[0-9a-f]{40}", key)
    assert "Made API key 'Import-Key'" in output and key not in output
    assert sandbox.state.api_keys.owner(key) == sandbox.user_id
    await export_works(sandbox, capsys, tmp_path)


async def test_on_a_terminal_login_offers_a_key_when_the_account_has_none(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    code, output = await login(sandbox, monkeypatch, capsys, typed="n\n")
    assert code == 0 and "The account has no API key" in output and saved_key() == ""
    assert "--create-api-key" in output and sandbox.state.counts["api_key_created"] == 0
    code, output = await login(sandbox, monkeypatch, capsys, typed="\n")  # Enter: yes
    key = saved_key()
    assert code == 0 and key.startswith("lgp_") and key not in output
    assert sandbox.state.counts["api_key_created"] == 1
    await export_works(sandbox, capsys, tmp_path)
    code, output = await login(sandbox, monkeypatch, capsys, typed="")  # a key saved: no offer
    assert code == 0 and "API key" not in output and saved_key() == key


async def test_without_a_terminal_login_says_how_and_makes_nothing(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, output = await login(sandbox, monkeypatch, capsys)
    assert code == 0 and saved_key() == "" and sandbox.state.counts["api_key_created"] == 0
    assert "The account has no API key; exports need one, and it lists leads 5,000 a request " \
           "instead of 1,000: `bulkio auth login --create-api-key` makes one." in output


async def test_create_api_key_without_a_name_uses_this_machines(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "laptop-7")
    code, output = await login(sandbox, monkeypatch, capsys, "--create-api-key")
    assert code == 0 and "Made API key 'bulkio on laptop-7'" in output and saved_key()
