"""Export safety: formula cells neutralised in CSV, no file replaced without --force, an
unwritable place said in one line, and `--out -` on standard output (a real process, piped)."""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.cli.main import main
from bulkio.formats.output import CsvEncoder, cell
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.cli.test_import_cli import credentials  # noqa: F401  (autouse fixture)
from tests.conftest import RawApi, lead
from tests.processes import environment

FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+cmd|' /C calc'!A0", "@SUM(1+1)",
            "-2+3", "\tTab", "\rCR"]


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=120)


async def bulkio(*argv: str) -> int:
    return await anyio.to_thread.run_sync(main, [*argv, "--rate", "unlimited"])


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_cell_is_prefixed_unless_raw(text: str) -> None:
    """OWASP's list: = + - @ tab CR at the start of text; numbers and other text as they are."""
    assert cell(text) == "'" + text and cell(text, raw=True) == text
    assert cell(-2) == "-2" and cell("Ada") == "Ada" and cell(" =not first") == " =not first"


def test_the_header_is_neutralised_too() -> None:
    row = CsvEncoder(["=cmd", "email"]).header().decode()
    assert next(csv.reader(io.StringIO(row))) == ["'=cmd", "email"]


@pytest.mark.parametrize("fields", [["--fields", "email,notes"], []], ids=["--fields", "spilled"])
async def test_formula_cells_from_lead_data_are_text_in_the_csv(
        sandbox: Sandbox, api: RawApi, fields: list[str]) -> None:
    """Leads whose notes hold formulas: each cell starts with ' in the CSV, with or without
    --fields (the second pass too); --csv-raw writes them as they are; the manifest says which."""
    for i, text in enumerate(FORMULAS):
        answer = await api.call("POST", "/api/leads", json=lead("acme-corp", email=f"f{i}@x.org",
                                                                 notes=text))
        assert answer.status == 201
    assert await bulkio("export", "--out", "safe.csv", *fields, "-q") == 0
    assert await bulkio("export", "--out", "raw.csv", *fields, "--csv-raw", "-q") == 0
    for name, expected in (("safe.csv", ["'" + t for t in FORMULAS]), ("raw.csv", FORMULAS)):
        with open(name, newline="") as f:
            notes = {r["email"]: r["notes"] for r in csv.DictReader(f) if r["email"].startswith("f")}
        assert [notes[f"f{i}@x.org"] for i in range(len(FORMULAS))] == expected
    manifest = orjson.loads(Path("safe.csv.manifest.json").read_bytes())
    assert manifest["formula_cells"].startswith("prefixed with '")


async def test_an_existing_file_is_not_replaced_without_force(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """--out onto a file: refused in one line (nothing sent), replaced with --force."""
    Path("keep.ndjson").write_text("precious\n")
    requests = sum(sandbox.state.counts.values())
    assert await bulkio("export", "--out", "keep.ndjson") == 2
    err = capsys.readouterr().err.strip()
    assert "keep.ndjson exists: add --force to replace it" in err and len(err.splitlines()) == 1
    assert Path("keep.ndjson").read_text() == "precious\n"
    assert sum(sandbox.state.counts.values()) == requests
    assert await bulkio("export", "--out", "keep.ndjson", "--force", "-q") == 0
    assert len(Path("keep.ndjson").read_text().splitlines()) == 120


async def test_a_read_only_directory_is_one_line(sandbox: Sandbox, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A directory this user may not write in (/sys, which refuses even root, as these tests
    may run): one line naming it and why, exit 2, nothing sent."""
    locked = read_only_directory()
    assert await bulkio("export", "--out", str(locked / "x.ndjson")) == 2
    err = capsys.readouterr().err.strip()
    assert f"bulkio cannot create files in {locked} (Permission denied)" in err
    assert len(err.splitlines()) == 1
    assert not sandbox.state.counts.get("GET /api/enrich-leads/list")


def read_only_directory() -> Path:
    """A directory nobody may create files in, root included (else the test is skipped)."""
    try:
        os.close(os.open("/sys/bulkio-probe", os.O_CREAT | os.O_WRONLY, 0o600))
    except PermissionError:
        return Path("/sys")
    except OSError:
        pass
    pytest.skip("no directory here refuses new files to this user")


async def test_an_unwritable_place_is_one_line(sandbox: Sandbox, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A path under a file (not a directory): one line naming it, exit 2, nothing sent."""
    Path("afile").write_text("x")
    assert await bulkio("export", "--out", "afile/sub/x.ndjson") == 2
    err = capsys.readouterr().err.strip()
    assert "afile is a file, not a directory" in err and len(err.splitlines()) == 1
    assert not sandbox.state.counts.get("GET /api/enrich-leads/list")


async def run_to_stdout(sb: Sandbox, tmp_path: Path, *argv: str) -> tuple[int, bytes, str]:
    command = [sys.executable, "-m", "bulkio", "export", "--out", "-", "--base-url", sb.base_url,
               "--rate", "unlimited", "--page-size", "50", *argv]
    with anyio.fail_after(60):
        done = await anyio.run_process(command, env=environment(sb, tmp_path), check=False)
    return done.returncode, done.stdout, done.stderr.decode()


async def test_out_dash_streams_ndjson_to_stdout(sandbox: Sandbox, tmp_path: Path) -> None:
    """`--out -`: every record once on stdout, nothing else there; progress and summary on
    stderr; no file named '-'."""
    code, out, err = await run_to_stdout(sandbox, tmp_path, "--fields", "email")
    assert code == 0, err
    records = [orjson.loads(line) for line in out.splitlines()]
    assert len(records) == len({r["id"] for r in records}) == 120
    assert all(set(r) == {"id", "email"} for r in records)
    assert "records" in err and not Path("-").exists()


async def test_out_dash_csv_needs_fields_and_cannot_resume(sandbox: Sandbox, tmp_path: Path) -> None:
    code, out, err = await run_to_stdout(sandbox, tmp_path, "--format", "csv", "--fields",
                                         "email,firstName")
    assert code == 0 and out.decode().splitlines()[0] == "email,firstName"
    assert len(out.decode().splitlines()) == 121
    code, out, err = await run_to_stdout(sandbox, tmp_path, "--format", "csv")
    assert code == 2 and "CSV on standard output needs --fields" in err and out == b""
    code, _, err = await run_to_stdout(sandbox, tmp_path, "--resume")
    assert code == 2 and "cannot be resumed" in err
