"""`bulkio import` in process: exit codes, dry run, progress lines, stdin, the sync wrapper."""

from __future__ import annotations

import io
import os
from pathlib import Path

import anyio
import pytest

from bulkio.api import import_leads_sync
from bulkio.cli.main import main
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.imports.test_import import SAMPLES, server_emails, settings_for
from tests.processes import sandbox_env


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=2)


@pytest.fixture(autouse=True)
def credentials(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # the default job directory lands in the test's folder
    for name, value in sandbox_env(sandbox).items():
        monkeypatch.setenv(name, value)


async def bulkio(*argv: str) -> int:
    return await anyio.to_thread.run_sync(main, [*argv, "--rate", "unlimited", "--settle", "0"])


async def test_all_good_is_exit_0_with_a_summary(sandbox: Sandbox, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Every row created: exit 0, the summary table, plain progress lines off a terminal."""
    source = tmp_path / "ok.csv"
    source.write_text("Email,First Name\r\na@x.com,Ada\r\nb@x.com,Bo\r\n")
    assert await bulkio("import", str(source), "--client", "acme-corp") == 0
    out, err = capsys.readouterr()
    assert "created" in out and "rows read" in out
    assert "bulkio: done: 2 rows" in err  # the last plain progress line
    assert Path(".bulkio/jobs").is_dir()


async def test_rejected_rows_are_exit_1(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """The sample has invalid rows: exit 1, and the summary points at the rejects file."""
    assert await bulkio("import", str(SAMPLES / "leads.csv"), "--client", "acme-corp") == 1
    assert "rejects.csv" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["import", "nope.csv", "--client", "acme-corp"], "no such file"),
    (["import", str(SAMPLES / "leads.csv"), "--client", "acme"], "no client 'acme'"),
    (["import", str(SAMPLES / "leads.csv")], "--client SLUG, or --create-client"),
    (["import", str(SAMPLES / "leads.csv"), "--client", "a", "--create-client", "B"], "one of the two"),
    (["import", "-", "--client", "acme-corp"], "needs --format"),
    (["import", "leads.xlsx", "--client", "acme-corp"], "is an Excel workbook: open it in its program"),
    (["import", "leads.xml", "--client", "acme-corp"], "cannot tell the format"),
])
async def test_usage_errors_are_exit_2_in_one_line(argv: list[str], message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """What a user gets wrong ends in one line that says what to fix, exit 2, no resume hint."""
    assert await bulkio(*argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


async def test_dry_run_prints_the_plan_and_sends_nothing(sandbox: Sandbox,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """--dry-run: mapping, payloads, counts and the time at the tier; no request."""
    code = await anyio.to_thread.run_sync(main, ["import", str(SAMPLES / "leads.csv"), "--client",
                                                 "acme-corp", "--dry-run", "--tier", "premium"])
    out = capsys.readouterr().out
    assert code == 0
    assert "column mapping" in out and "Lifecycle Stage" in out and "not imported" in out
    assert '"client_id": "acme-corp"' in out and "rows: 2,000" in out
    assert "at 1,000 requests a minute" in out
    assert sum(sandbox.state.counts.values()) == 0


async def test_stdin_with_format(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` reads standard input, given --format."""
    data = b'{"email": "s1@x.com"}\n{"email": "s2@x.com"}\n'

    class Stdin:
        buffer = io.BytesIO(data)

    monkeypatch.setattr("sys.stdin", Stdin())
    assert await bulkio("import", "-", "--format", "ndjson", "--client", "acme-corp", "-q") == 0
    assert server_emails(sandbox) == {"s1@x.com": 1, "s2@x.com": 1}


async def test_quiet_prints_nothing(sandbox: Sandbox, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """--quiet: no progress, no summary."""
    source = tmp_path / "q.csv"
    source.write_text("email\r\nq@x.com\r\n")
    assert await bulkio("import", str(source), "--client", "acme-corp", "--quiet") == 0
    assert capsys.readouterr() == ("", "")


async def test_the_synchronous_wrapper(sandbox: Sandbox, tmp_path: Path) -> None:
    """import_leads_sync works where there is no event loop (scripts, notebooks)."""
    source = tmp_path / "s.csv"
    source.write_text("email\r\nsync@x.com\r\n")
    report = await anyio.to_thread.run_sync(lambda: import_leads_sync(
        source, client="acme-corp", settings=settings_for(sandbox), settle_s=0.0,
        job_dir=tmp_path / "sync-job"))
    assert report.created == 1 and os.path.exists(str(report.report_path))


async def test_a_finished_job_run_again_is_archived_and_says_where(
        sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same import again starts a new job; the first one's directory (its report) is kept
    beside it under a timestamp, and the output says where."""
    source = tmp_path / "again.csv"
    source.write_text("email\r\nagain@x.com\r\n")
    assert await bulkio("import", str(source), "--client", "acme-corp", "-q") == 0
    assert await bulkio("import", str(source), "--client", "acme-corp") == 0
    err = capsys.readouterr().err
    (archived,) = [p for p in Path(".bulkio/jobs").iterdir() if "." in p.name]
    assert f"had finished: it is kept in {archived}" in err
    assert (archived / "report.json").exists() and (archived.with_suffix("") / "report.json").exists()


def test_the_synchronous_wrapper_inside_a_running_event_loop(tmp_path: Path) -> None:
    """As in a notebook: called where a loop is already running, it runs in a worker thread
    (it raised anyio's "Already running asyncio in this thread"). The sandbox is a process
    here, since this thread's loop is blocked while the import runs."""
    import asyncio
    import subprocess
    import sys

    import orjson

    from bulkio.leadgenius.settings import Credentials, Settings

    with subprocess.Popen([sys.executable, "-m", "bulkio", "sandbox", "--port", "0", "--quota",
                           "unlimited", "--clients", "1"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as sandbox:
        try:
            assert sandbox.stdout is not None
            info = orjson.loads(sandbox.stdout.readline())
            settings = Settings(base_url=info["base_url"], rate_per_minute=None,
                                credentials=Credentials(email=info["email"],
                                                        password=info["password"],
                                                        api_key=info["api_key"],
                                                        user_id=info["user_id"]))
            source = tmp_path / "nb.csv"
            source.write_text("email\r\nnotebook@x.com\r\n")

            async def notebook_cell() -> int:
                report = import_leads_sync(source, client="acme-corp", settings=settings,
                                           settle_s=0.0, job_dir=tmp_path / "nb-job")
                return report.created

            assert asyncio.run(notebook_cell()) == 1
        finally:
            sandbox.terminate()


async def test_a_dry_run_writes_its_report_where_asked(sandbox: Sandbox, tmp_path: Path) -> None:
    """--dry-run --report: an import report of what was read, nothing created, dry_run true."""
    import orjson

    from bulkio.models import IMPORT_REPORT_KEYS

    report = tmp_path / "dry.json"
    assert await bulkio("import", str(SAMPLES / "leads.csv"), "--client", "acme-corp",
                        "--dry-run", "--report", str(report)) == 0
    saved = orjson.loads(report.read_bytes())
    assert tuple(saved) == IMPORT_REPORT_KEYS and saved["dry_run"] is True
    assert saved["rows_read"] == 2000 and saved["created"] == 0
    assert saved["requests"] == 2000 - saved["skipped_duplicate"] - saved["rejected"]
    assert sum(sandbox.state.counts.values()) == 0


@pytest.mark.parametrize(("argv", "message"), [
    (["import", "hubspot:deals", "--client", "acme-corp"],
     "unknown HubSpot source 'hubspot:deals': use hubspot:contacts or hubspot:leads-v1"),
    (["import", "hubspot:contacts", "--client", "acme-corp"], "set HUBSPOT_ACCESS_TOKEN"),
    (["import", "hubspot:contacts", "--client", "acme-corp", "--since", "2026-01-01"],
     "--since and --until apply to hubspot:leads-v1"),
    (["import", "hubspot:leads-v1", "--client", "acme-corp", "--since", "yesterday"],
     "--since takes an ISO date"),
    (["import", "hubspot:contacts", "--client", "acme-corp", "--encoding", "latin-1"],
     "--format and --encoding apply to files"),
    (["import", "leads.csv", "--client", "acme-corp", "--properties", "city"],
     "--properties apply to a hubspot: source"),
    (["import", "hubspot:contacts", "--client", "acme-corp", "--hubspot-base-url",
      "http://hubspot.example.com"], "refusing to send credentials over plain http://"),
])
async def test_hubspot_usage_errors_are_exit_2_in_one_line(
        argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """HubSpot sources: a wrong kind, no token, a flag that does not apply: one line, exit 2."""
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    if "set HUBSPOT_ACCESS_TOKEN" not in message:
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "pat-na1-00000000-test-token")
    assert await bulkio(*argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


async def test_a_batch_dry_run_says_both_costs(sandbox: Sandbox, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """--strategy batch --dry-run: the requests if batches are stored, and if none is; the
    report says the strategy and the first figure."""
    import orjson

    report = tmp_path / "dry.json"
    assert await anyio.to_thread.run_sync(main, [
        "import", str(SAMPLES / "leads.csv"), "--client", "acme-corp", "--dry-run",
        "--strategy", "batch", "--tier", "premium", "--report", str(report)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # as said, whatever the terminal's width
    saved = orjson.loads(report.read_bytes())
    creates = 2000 - saved["skipped_duplicate"] - saved["rejected"]
    assert saved["strategy"] == "batch" and saved["requests"] == -(-creates // 50)
    assert "if the batch path stores what it is sent" in out
    assert f"if the batch path stores nothing, {creates + saved['requests']:,} requests" in out
    assert sum(sandbox.state.counts.values()) == 0


@pytest.mark.parametrize("size", ["0", "51", "ten"])
async def test_a_batch_size_out_of_range_is_a_usage_error(size: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        await bulkio("import", str(SAMPLES / "leads.csv"), "--client", "acme-corp",
                     "--strategy", "batch", "--batch-size", size)
    assert exit_.value.code == 2
    assert "a batch holds 1 to 50 leads" in capsys.readouterr().err


async def test_a_batch_import_says_what_the_batches_did(sandbox: Sandbox, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The summary of a --strategy batch import: batch requests, leads the batches stored,
    rows sent again alone, duplicates removed."""
    sandbox.config.batch_persist = 1.0
    source = tmp_path / "ok.csv"
    source.write_text("Email\r\n" + "".join(f"b{i}@x.com\r\n" for i in range(120)))
    assert await bulkio("import", str(source), "--client", "acme-corp", "--strategy", "batch",
                        "--job-dir", str(tmp_path / "job")) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ("--strategy batch: 3 batch requests; 120 leads stored by batches, 0 rows sent "
            "alone (never in a batch), 0 sent alone after a batch") in out
    assert "created twice" not in out  # said only when there were some
