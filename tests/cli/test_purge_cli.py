"""`bulkio purge` in process: exit codes and the summary."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.cli.main import main
from bulkio.models import PURGE_REPORT_KEYS
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.cli.test_import_cli import credentials  # noqa: F401  (autouse fixture)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=2, leads=400)


async def bulkio(*argv: str) -> int:
    return await anyio.to_thread.run_sync(main, [*argv, "--rate", "unlimited"])


async def test_an_emptied_client_is_exit_0_with_a_summary(
        sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "purge.json"
    assert await bulkio("purge", "--client", "acme-corp", "--yes", "--delete-client",
                        "--report", str(report)) == 0
    out, err = capsys.readouterr()
    assert "deleted" in out and "The client record acme-corp was deleted" in out
    assert "bulkio: done:" in err
    saved = orjson.loads(report.read_bytes())
    assert tuple(saved) == PURGE_REPORT_KEYS
    assert saved["found"] == saved["deleted"] == 200 and saved["client_deleted"] is True


async def test_leads_left_are_exit_1(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.config.batch_delete_drop = 1.0
    assert await bulkio("purge", "--client", "acme-corp", "--yes") == 1
    assert "200 lead(s) remain" in capsys.readouterr().out


async def test_an_unknown_client_is_exit_2_in_one_line(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert await bulkio("purge", "--client", "nope", "--yes") == 2
    err = capsys.readouterr().err.strip()
    assert "no client 'nope'" in err and len(err.splitlines()) == 1


async def test_on_a_terminal_typing_the_slug_confirms(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    questions: list[str] = []

    def answer(question: str) -> str:
        questions.append(question)
        return "acme-corp"

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", answer)
    assert await bulkio("purge", "--client", "acme-corp", "--delete-client") == 0
    assert len(questions) == 1
    assert "200 leads of 'Acme Corp' (slug acme-corp" in questions[0]
    assert "then the client record itself" in questions[0]
    assert sandbox.state.store.find_client(sandbox.company_id, "acme-corp") is None


async def test_on_a_terminal_anything_else_refuses(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(builtins, "input", lambda question: "acme")
    assert await bulkio("purge", "--client", "acme-corp") == 2
    assert "not confirmed" in capsys.readouterr().err
    assert sandbox.state.store.count_leads(sandbox.company_id, "acme-corp") == 200


def converse(argv: list[str], env: dict[str, str], prompt: bytes, answer: bytes,
             quiet_for: float) -> tuple[int, bytes, bytes]:
    """Run `argv` on a pseudo-terminal; once `prompt` is on screen, watch the screen for
    `quiet_for` seconds (what a person reading the question would see), then type `answer`.
    (exit code, the screen up to the prompt, what came while the question waited)."""
    import os
    import pty
    import select
    import subprocess

    main_fd, tty = pty.openpty()
    proc = subprocess.Popen(argv, stdin=tty, stdout=tty, stderr=tty, env=env, close_fds=True)
    os.close(tty)
    screen = b""
    while prompt not in screen:
        ready, _, _ = select.select([main_fd], [], [], 30)
        assert ready, f"no question on the terminal; it shows: {screen[-500:]!r}"
        screen += os.read(main_fd, 65536)
    while_waiting = b""
    for _ in range(20):  # a screen that keeps redrawing never goes quiet: look a while only
        if not select.select([main_fd], [], [], quiet_for)[0]:
            break
        while_waiting += os.read(main_fd, 65536)
    os.write(main_fd, answer)
    try:
        while select.select([main_fd], [], [], 30)[0]:
            os.read(main_fd, 65536)
    except OSError:  # the terminal closed with the process
        pass
    os.close(main_fd)
    return proc.wait(timeout=30), screen, while_waiting


async def test_on_a_real_terminal_the_question_is_not_erased(sandbox: Sandbox, tmp_path: Path) -> None:
    """Under a pseudo-terminal, nothing is drawn while the question waits (the progress bar
    erased it and the typed echo within 0.25 s), and the typed slug confirms."""
    from tests.processes import environment

    argv = [sys.executable, "-m", "bulkio", "purge", "--client", "acme-corp", "--base-url",
            sandbox.base_url, "--rate", "unlimited", "--job-dir", str(tmp_path / "job")]
    env = {**environment(sandbox, tmp_path), "TERM": "xterm-256color", "COLUMNS": "120"}
    code, screen, while_waiting = await anyio.to_thread.run_sync(
        lambda: converse(argv, env, b"Type the slug to confirm: ", b"acme-corp\n", quiet_for=1.5))
    assert while_waiting == b"", while_waiting
    assert b"About to delete 200 leads" in screen
    assert code == 0 and sandbox.state.store.count_leads(sandbox.company_id, "acme-corp") == 0


async def test_a_dry_run_writes_its_report_where_asked(sandbox: Sandbox, tmp_path: Path) -> None:
    """--dry-run --report: the purge report's keys, found, nothing deleted, the requests it
    would take, dry_run true (it wrote nothing before)."""
    report = tmp_path / "dry.json"
    assert await bulkio("purge", "--client", "acme-corp", "--dry-run", "--yes",
                        "--report", str(report)) == 0
    saved = orjson.loads(report.read_bytes())
    assert tuple(saved) == PURGE_REPORT_KEYS and saved["dry_run"] is True
    assert saved["found"] == 200 and saved["deleted"] == 0 and saved["requests"] > 4
    assert sandbox.state.store.count_leads(sandbox.company_id, "acme-corp") == 200
