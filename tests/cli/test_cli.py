"""The `bulkio` command in process: exit codes, one-line errors, and no secret in any output."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.cli.main import build_parser, main
from bulkio.leadgenius.authfile import load_auth_file
from bulkio.sandbox import Sandbox


async def bulkio(*argv: str) -> int:
    """Run `bulkio argv` in a worker thread while the sandbox serves on the test's loop."""
    return await anyio.to_thread.run_sync(main, list(argv))


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


async def login(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(sb.password + "\n"))
    return await bulkio("auth", "login", "--base-url", sb.base_url, "--email", sb.email,
                        "--password-stdin")


async def test_login_saves_a_0600_auth_file_and_status_shows_who(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """login writes the LeadGenius scripts' format (mode 0600, no password); status names the account."""
    assert await login(sandbox, monkeypatch) == 0
    path = Path(os.environ["LEADGENIUS_AUTH_FILE"])
    saved = load_auth_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(saved) == {"token", "id_token", "refresh_token", "email", "user_id", "base_url"}
    assert saved["user_id"] == sandbox.user_id and saved["base_url"] == sandbox.base_url
    assert await bulkio("auth", "status") == 0
    out = capsys.readouterr().out
    assert sandbox.email in out and sandbox.user_id in out and "Sandbox Company" in out
    assert "valid until" in out


async def test_login_can_save_an_api_key(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """--api-key stores LEADGENIUS_API_KEY too, so the bulk endpoints work."""
    monkeypatch.setenv("LEADGENIUS_API_KEY", sandbox.api_key)
    monkeypatch.setattr("sys.stdin", io.StringIO(sandbox.password + "\n"))
    assert await bulkio("auth", "login", "--base-url", sandbox.base_url, "--email", sandbox.email,
                        "--password-stdin", "--api-key") == 0
    monkeypatch.delenv("LEADGENIUS_API_KEY")
    assert load_auth_file(Path(os.environ["LEADGENIUS_AUTH_FILE"]))["api_key"] == sandbox.api_key


async def test_clients_lists_slugs_and_ids(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`bulkio clients --json --counts`: one object per client with slug, UUID and lead count."""
    await login(sandbox, monkeypatch)
    capsys.readouterr()
    assert await bulkio("clients", "--json", "--counts", "--rate", "unlimited") == 0
    rows = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["client_id"] for r in rows] == ["acme-corp", "historic-leads"]
    assert [r["leads"] for r in rows] == [5, 5] and all(len(r["id"]) == 36 for r in rows)
    assert await bulkio("clients") == 0
    assert "acme-corp" in capsys.readouterr().out


async def test_no_credentials_is_exit_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing configured: exit 2 and one line naming `bulkio auth login`."""
    assert await bulkio("auth", "status") == 2
    assert "bulkio auth login" in one_line(capsys.readouterr().err)


async def test_a_wrong_password_is_exit_2_in_one_line(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Login refused: exit 2, one line, and the password is not in it."""
    monkeypatch.setattr("sys.stdin", io.StringIO("not-the-password-123\n"))
    code = await bulkio("auth", "login", "--base-url", sandbox.base_url, "--email", sandbox.email,
                        "--password-stdin")
    err = capsys.readouterr().err
    assert code == 2 and "wrong email or password" in one_line(err)
    assert "not-the-password-123" not in err


async def test_an_unreachable_server_is_one_line(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Connection refused: a URL to check, exit 2, one line, no traceback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("LEADGENIUS_TOKEN", "x.y.z")
    monkeypatch.setenv("LEADGENIUS_API_KEY", "k" * 20)
    monkeypatch.setenv("LEADGENIUS_USER_ID", "u")
    code = await bulkio("clients", "--base-url", f"http://127.0.0.1:{port}", "--timeout", "2")
    assert code == 2
    assert "cannot connect" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(("argv", "hint"), [
    (["clients", "--tier", "gold"], "invalid choice"),
    (["clients", "--rate", "fast"], "--rate must be"),
    (["clients", "--tier", "premium", "--rate", "10"], "not allowed with"),
    (["clients", "--base-url", "http://api.example.com"], "--insecure"),
    (["nonsense"], "invalid choice"),
    (["auth"], "required"),
])
def test_usage_errors_are_exit_2_in_one_line(argv: list[str], hint: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Bad flags and settings: exit 2, one line that says what to fix."""
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    assert code == 2
    assert hint in one_line(capsys.readouterr().err)


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    """`--help` works for every command and names its options."""
    parser = build_parser()
    cases: list[tuple[list[str], str]] = [
        ([], "COMMAND"), (["auth", "login"], "--password-stdin"), (["auth", "status"], "--offline"),
        (["auth", "logout"], "auth file"), (["clients"], "--counts"),
        (["sandbox"], "--lost-response-rate"), (["import"], "--on-duplicate"),
        (["export"], "--single-cursor"), (["purge"], "--delete-client")]
    for argv, expected in cases:
        with pytest.raises(SystemExit) as exit_:
            parser.parse_args([*argv, "--help"])
        assert exit_.value.code == 0
        assert expected in capsys.readouterr().out


async def test_no_secret_appears_in_any_output(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Across login, status, clients, import, export, purge (debug logging) and errors, no
    secret is ever printed or written to a job file."""
    monkeypatch.setenv("LEADGENIUS_API_KEY", sandbox.api_key)
    monkeypatch.setenv("LEADGENIUS_PASSWORD", sandbox.password)
    assert await bulkio("auth", "login", "--base-url", sandbox.base_url, "--email", sandbox.email,
                        "--api-key", "-vv") == 0
    sandbox.config.error_rate = 0.3  # retries get logged at debug level
    sandbox.state.chaos.rng.seed(3)  # and the dice are fixed, so some certainly happen
    assert await bulkio("auth", "status", "-vv") == 0
    assert await bulkio("clients", "--counts", "-vv", "--rate", "unlimited") == 0
    leads = Path(os.environ["LEADGENIUS_AUTH_FILE"]).parent / "few.csv"
    leads.write_text("email\r\nsecretless@x.com\r\nbad-email\r\n")
    assert await bulkio("import", str(leads), "--client", "acme-corp", "-vv", "--rate",
                        "unlimited", "--settle", "0", "--job-dir", str(leads.parent / "job")) == 1
    export = leads.parent / "export.ndjson"
    assert await bulkio("export", "--out", str(export), "-vv", "--rate", "unlimited",
                        "--job-dir", str(leads.parent / "export-job")) == 0
    assert await bulkio("purge", "--client", "acme-corp", "--yes", "-vv", "--rate", "unlimited",
                        "--job-dir", str(leads.parent / "purge-job")) == 0
    written_files = [*(leads.parent / "job").iterdir(), *(leads.parent / "export-job").iterdir(),
                     *(leads.parent / "purge-job").iterdir(),
                     export, export.with_name("export.ndjson.manifest.json")]
    for written in written_files:  # journal, checkpoint, reports, rejects, export, manifest
        content = written.read_bytes()
        assert sandbox.password.encode() not in content and sandbox.api_key.encode() not in content
    sandbox.state.store.revoke_refresh_tokens()
    monkeypatch.setenv("LEADGENIUS_TOKEN", "garbage.token.value")
    await bulkio("clients", "-vv", "--debug")
    output = capsys.readouterr()
    saved = load_auth_file(Path(os.environ["LEADGENIUS_AUTH_FILE"]))
    secrets = [sandbox.password, sandbox.api_key, saved["token"], saved["refresh_token"],
               saved["id_token"], "garbage.token.value"]
    for secret in secrets:
        assert secret not in output.out and secret not in output.err
    assert "retrying" in output.err  # the debug log did run


async def test_status_says_what_the_auth_file_is_used_for(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """LEADGENIUS_TOKEN set: the file's refresh token and API key are still used, and status
    says so (it said "(not used)"), and that renewed tokens are not written back."""
    monkeypatch.setenv("LEADGENIUS_API_KEY", sandbox.api_key)
    monkeypatch.setattr("sys.stdin", io.StringIO(sandbox.password + "\n"))
    assert await bulkio("auth", "login", "--base-url", sandbox.base_url, "--email", sandbox.email,
                        "--password-stdin", "--api-key") == 0
    monkeypatch.delenv("LEADGENIUS_API_KEY")
    monkeypatch.setenv("LEADGENIUS_TOKEN", sandbox.token)
    capsys.readouterr()
    assert await bulkio("auth", "status", "--offline") == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("auth file"))
    assert "used for: refresh token, email, API key, user id" in line
    assert "not written back: LEADGENIUS_TOKEN is set" in line and "(not used)" not in line


async def test_an_auth_file_others_can_read_is_made_private(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A 0644 auth file (tokens, API key) is rewritten 0600 on first use, with a warning."""
    assert await login(sandbox, monkeypatch) == 0
    path = Path(os.environ["LEADGENIUS_AUTH_FILE"])
    path.chmod(0o644)
    capsys.readouterr()
    assert await bulkio("auth", "status", "--offline") == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "could be read by other users (mode 644): it is now private (0600)" in capsys.readouterr().err


async def test_a_refused_token_with_nothing_to_renew_it_says_what_to_do(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A forged token and no refresh token or password: exit 2, one line saying to log in
    (not just the server's 401 text)."""
    monkeypatch.setenv("LEADGENIUS_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("LEADGENIUS_TOKEN", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged-signature")
    assert await bulkio("clients") == 2
    line = one_line(capsys.readouterr().err)
    assert "the access token was refused" in line and "run `bulkio auth login`" in line
    assert "forged-signature" not in line
