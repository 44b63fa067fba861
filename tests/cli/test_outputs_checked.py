"""Outputs that cannot be written are refused before the first request (the work is paid
for: a processing's triggers spend credits), in one line that names the flag, the path and
what is wrong with it; exit 2, and the server has seen nothing."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from bulkio.cli.main import main
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.processes import sandbox_env


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=5, processing_settings=True)


@pytest.fixture(autouse=True)
def place(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in sandbox_env(sandbox).items():
        monkeypatch.setenv(name, value)
    Path("in.csv").write_text("email\na@x.org\n")
    Path("blocker").write_text("a file where a directory is expected\n")


UNDER_A_FILE = "blocker/out"
CASES = {
    "import --rejects": (["import", "in.csv", "--client", "acme-corp", "--rejects", UNDER_A_FILE],
                         "--rejects blocker/out: blocker is a file, not a directory"),
    "import --report": (["import", "in.csv", "--client", "acme-corp", "--report", UNDER_A_FILE],
                        "--report blocker/out: blocker is a file, not a directory"),
    "import --job-dir at a file": (["import", "in.csv", "--client", "acme-corp", "--job-dir",
                                    "blocker"], "--job-dir blocker is a file, not a directory"),
    "import --job-dir /proc/self": (["import", "in.csv", "--client", "acme-corp", "--job-dir",
                                     "/proc/self"],
                                    "--job-dir /proc/self: bulkio cannot create files in "
                                    "/proc/self (No such file or directory)"),
    "process --out": (["process", "enrich", "--client", "acme-corp", "--services",
                       "enrichment1", "--out", UNDER_A_FILE],
                      "--out blocker/out: blocker is a file, not a directory"),
    "emails --out": (["emails", "validate", "in.csv", "--out", UNDER_A_FILE],
                     "--out blocker/out: blocker is a file, not a directory"),
    "export --report": (["export", "--client", "acme-corp", "--out", "x.ndjson", "--report",
                         UNDER_A_FILE], "--report blocker/out: blocker is a file"),
    "purge --report": (["purge", "--client", "acme-corp", "--yes", "--report", UNDER_A_FILE],
                       "--report blocker/out: blocker is a file, not a directory"),
    "serve --data-dir": (["serve", "--port", "0", "--data-dir", "blocker"],
                         "--data-dir blocker is a file, not a directory"),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_an_unwritable_output_is_refused_before_any_request(
        case: str, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    argv, said = CASES[case]
    code = await anyio.to_thread.run_sync(main, argv)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and said in err, err
    assert "Traceback" not in err and "please report it" not in err
    assert sum(sandbox.state.counts.values()) == 0, dict(sandbox.state.counts)
