"""`bulkio export` in process: exit codes, progress lines, one-line errors, the report file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

from bulkio.cli.main import main
from bulkio.errors import ApiError
from bulkio.leadgenius.client import LeadGeniusClient
from bulkio.models import EXPORT_REPORT_KEYS
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.cli.test_import_cli import credentials  # noqa: F401  (autouse fixture)


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=2, leads=300)


async def bulkio(*argv: str) -> int:
    return await anyio.to_thread.run_sync(main, [*argv, "--rate", "unlimited"])


async def test_an_export_is_exit_0_with_a_summary(sandbox: Sandbox, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    assert await bulkio("export", "--out", "out/", "--kind", "all", "--report", str(report)) == 0
    out, err = capsys.readouterr()
    assert "records" in out and "Written: out/enrich-leads.ndjson" in out
    assert "bulkio: done: 300 records" in err  # the last plain progress line
    assert Path("out/enrich-leads.ndjson.manifest.json").exists()
    saved = orjson.loads(report.read_bytes())
    assert tuple(saved) == EXPORT_REPORT_KEYS and saved["records"] == 300


async def test_a_failed_cursor_is_exit_1_and_keeps_the_part(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """One client's cursor fails for good (a 403 from the server): the other clients are
    still exported and checkpointed, the file stays .part, exit 1 with the command to retry;
    the retry, once the server relents, completes the file."""
    original = LeadGeniusClient.bulk_page

    async def refuse_one_client(self: LeadGeniusClient, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("client_slug") == "acme-corp":
            raise ApiError(403, "Access to this client is denied", "insufficient_permissions")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(LeadGeniusClient, "bulk_page", refuse_one_client)
    assert await bulkio("export", "--out", "x.ndjson") == 1
    err = capsys.readouterr().err
    assert "Access to this client is denied" in err and "--resume" in err
    assert not Path("x.ndjson").exists() and Path("x.ndjson.part").stat().st_size > 0
    monkeypatch.setattr(LeadGeniusClient, "bulk_page", original)
    assert await bulkio("export", "--out", "x.ndjson", "--resume") == 0
    ids = [orjson.loads(line)["id"] for line in Path("x.ndjson").read_bytes().splitlines()]
    assert len(ids) == len(set(ids)) == 300


@pytest.mark.parametrize(("argv", "message"), [
    (["export", "--out", "x.xlsx"], "cannot tell the format"),
    (["export", "--out", "x.csv", "--format", "ndjson"], "does not match"),
    (["export", "--out", "x.ndjson", "--client", "nope"], "no client 'nope'"),
    (["export", "--out", "x.ndjson", "--resume"], "nothing to resume"),
])
async def test_usage_errors_are_exit_2_in_one_line(sandbox: Sandbox, argv: list[str], message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert await bulkio(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_bad_page_size_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export", "--out", "x.ndjson", "--page-size", "6000"])
    assert exit_.value.code == 2
    assert "between 1 and 5000" in capsys.readouterr().err


async def test_a_field_the_server_refuses_is_exit_2_in_one_line(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert await bulkio("export", "--out", "x.ndjson", "--fields", "email,not-a-field",
                        "--allow-unknown-fields") == 2
    err = capsys.readouterr().err.strip()
    assert "Invalid field name 'not-a-field'" in err and "--fields" in err
    assert len(err.splitlines()) == 1


async def test_unknown_fields_are_refused_with_the_right_name_suggested(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's --fields: exit 2 in one line (not two empty columns and exit 0); with
    --allow-unknown-fields the export runs, the unknown column empty."""
    assert await bulkio("export", "--out", "x.csv", "--fields", "email,nosuchfield,FirstName") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and not Path("x.csv").exists()
    assert "'nosuchfield', 'FirstName' (did you mean 'firstName'?), which no lead carries" in err
    assert await bulkio("export", "--out", "x.csv", "--fields", "email,nosuchfield",
                        "--allow-unknown-fields", "-q") == 0
    lines = Path("x.csv").read_text().splitlines()
    assert lines[0] == "email,nosuchfield" and lines[1].endswith(",")
