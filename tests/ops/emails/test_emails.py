"""Email checks in bulk over HTTP: `bulkio emails validate` on a file and on a client, and
`bulkio import --validate-emails [--deep]` rejecting what the checker refuses before any
create is sent."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from bulkio.api import validate_emails
from bulkio.errors import ConfigError
from bulkio.ops.emails.report import EMAIL_REPORT_KEYS
from bulkio.sandbox import Sandbox, SandboxConfig
from bulkio.sandbox.emails import validate, verify
from tests.ops.imports.test_import import FAST, SAMPLES, run, server_emails, settings_for


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=50)


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in path.read_bytes().splitlines()]


def checked_file(tmp_path: Path) -> Path:
    path = tmp_path / "mixed.csv"
    rows = [["Email", "First Name"], ["ada@acme.com", "Ada"], ["ADA@acme.com", "Ada again"],
            ["info@acme.com", "Info"], ["bob@mailinator.com", "Bob"], ["carl@example.com", "Carl"],
            ["not-an-email", "Dan"], ["", "Eve"], ["bounce.1@acme.com", "Fay"],
            ["gus@greylisted.net", "Gus"]]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


async def test_samples_are_validated_each_address_once(sandbox: Sandbox, tmp_path: Path) -> None:
    """samples/leads.csv: one line per row; each distinct address asked once; the verdicts are
    the sandbox's own rules; rows without one or not an address said so without a request."""
    out = tmp_path / "checked.ndjson"
    report = await validate_emails(str(SAMPLES / "leads.csv"), out=out,
                                   settings=settings_for(sandbox), job_dir=tmp_path / "job",
                                   policy=FAST)
    got = lines(out)
    assert [x["row"] for x in got] == list(range(1, 2001))  # samples/leads.csv: 2,000 rows
    sent = {x["email"].lower() for x in got if x["verdict"] in ("valid", "invalid")
            and "not sent" not in (x["reason"] or "")}
    asked = sandbox.state.counts["email_validate"]
    assert asked == len(sent) and report.unchecked == 0
    for x in got:
        if x["verdict"] in ("valid", "invalid") and "not sent" not in (x["reason"] or ""):
            assert (x["verdict"] == "valid", x["reason"]) == validate(x["email"])
    assert any(x["verdict"] == "no_email" for x in got)
    assert any(x["verdict"] == "invalid" and x["email"] == "two@@x.com" for x in got)
    saved = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert tuple(saved) == EMAIL_REPORT_KEYS and saved["unchecked"] == 0
    again = await validate_emails(str(SAMPLES / "leads.csv"), out=out, resume=True,
                                  settings=settings_for(sandbox), job_dir=tmp_path / "job",
                                  policy=FAST)
    assert sandbox.state.counts["email_validate"] == asked and again.valid == report.valid


async def test_deep_verification_of_a_file_and_a_client(sandbox: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "deep.csv"
    report = await validate_emails(str(checked_file(tmp_path)), out=out, deep=True,
                                   settings=settings_for(sandbox), job_dir=tmp_path / "j1",
                                   policy=FAST)
    with out.open(newline="") as f:
        got = {r["email"]: (r["verdict"], r["reason"]) for r in csv.DictReader(f)}
    assert got["ada@acme.com"] == ("valid", "ok") and got["info@acme.com"][0] == "risky"
    assert got["bob@mailinator.com"][0] == "risky" and got["carl@example.com"][0] == "invalid"
    assert got["bounce.1@acme.com"][0] == "invalid" and got["gus@greylisted.net"][0] == "unknown"
    assert got["not-an-email"][0] == "invalid" and got[""][0] == "no_email"
    assert (report.duplicates, report.no_email) == (1, 1)
    assert sandbox.state.counts["email_verify"] == 6  # 9 rows: a repeat, an empty, a non-address
    client_out = tmp_path / "client.ndjson"
    of_client = await validate_emails("client:acme-corp", out=client_out,
                                      settings=settings_for(sandbox), job_dir=tmp_path / "j2",
                                      policy=FAST)
    got_client = lines(client_out)
    assert len(got_client) == 50 and all(x["leadId"].startswith("lead-") for x in got_client)
    assert of_client.checked + of_client.no_email >= 1


async def test_import_with_validate_emails_rejects_refused_rows_before_sending(
        sandbox: Sandbox, tmp_path: Path) -> None:
    source = checked_file(tmp_path)
    report = await run(sandbox, source, tmp_path, check_emails="validate", allow_no_email=False)
    stored = server_emails(sandbox)
    assert set(stored) >= {"ada@acme.com", "info@acme.com", "bounce.1@acme.com",
                           "gus@greylisted.net"}
    assert "bob@mailinator.com" not in stored and "carl@example.com" not in stored
    with (tmp_path / "job" / "rejects.csv").open(newline="") as f:
        rejects = {r["Email"]: r["_error"] for r in csv.DictReader(f)}
    assert "disposable" in rejects["bob@mailinator.com"]
    assert "no_mx" in rejects["carl@example.com"]
    assert report.rejected == 4  # those two, not-an-email and the empty one
    assert any("Validated 6 addresses" in n for n in report.notices)
    assert sandbox.state.counts["email_validate"] == 6


async def test_import_with_deep_rejects_undeliverable(sandbox: Sandbox, tmp_path: Path) -> None:
    await run(sandbox, checked_file(tmp_path), tmp_path, check_emails="deep")
    stored = server_emails(sandbox)
    assert "bounce.1@acme.com" not in stored and "carl@example.com" not in stored
    assert "bob@mailinator.com" in stored  # risky is imported
    assert verify("bob@mailinator.com")[0] == "risky"


async def test_validate_emails_needs_a_file(sandbox: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs a file"):
        await run(sandbox, "-", tmp_path, check_emails="validate")
    assert Counter(sandbox.state.counts)["email_validate"] == 0
