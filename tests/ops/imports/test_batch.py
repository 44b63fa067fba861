"""--strategy batch|auto against the sandbox's batch POST bug: whatever the batch path stores
(all, a random half, whole batches or none, nothing, all of it late), every valid row is on
the server exactly once, and no lead that was there before the job is ever deleted."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from bulkio.models import ImportReport
from bulkio.ops.imports.batch import threshold
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.ops.imports.test_import import assert_books_balance, run, server_emails, settings_for

ROWS = 600
BAD = 7  # rows without a usable email: rejected before anything is sent


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, chaos_seed=13)


def leads_csv(tmp_path: Path, rows: int = ROWS) -> tuple[Path, set[str]]:
    """`rows` leads, `BAD` of them with a broken email; the valid emails."""
    lines = ["First Name,Last Name,Email,Company"]
    valid = set()
    for i in range(rows):
        email = f"lead{i}@example.com" if i % (rows // BAD + 1) else f"lead{i}@@example"
        lines.append(f"Ada{i},Lovelace,{email},Engines")
        if "@@" not in email:
            valid.add(email)
    path = tmp_path / "leads.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, valid


def assert_exactly_once(sb: Sandbox, valid: set[str], report: ImportReport) -> None:
    on_server = server_emails(sb)
    assert set(on_server) == valid, len(set(on_server) ^ valid)
    assert set(on_server.values()) == {1}, [e for e, n in on_server.items() if n > 1][:5]
    assert (report.created, report.failed, report.rejected) == (len(valid), 0, ROWS - len(valid))
    assert_books_balance(report)


async def batch_import(sb: Sandbox, tmp_path: Path, **options: Any) -> tuple[ImportReport, set[str]]:
    source, valid = leads_csv(tmp_path)
    options.setdefault("strategy", "batch")
    return await run(sb, source, tmp_path, **options), valid


async def test_persist_1_stores_50_a_request(sandbox: Sandbox, tmp_path: Path) -> None:
    """An honest batch path: one request per 50 leads, each believed after a listing."""
    sandbox.config.batch_persist = 1.0
    report, valid = await batch_import(sandbox, tmp_path)
    assert_exactly_once(sandbox, valid, report)
    assert report.strategy == "batch" and report.batch_requests == math.ceil(len(valid) / 50)
    assert report.batch_leads_persisted == len(valid)
    assert (report.resent_single, report.duplicates_removed) == (0, 0)
    assert sandbox.state.counts["POST /api/leads"] == report.batch_requests
    assert report.requests < len(valid) / 20


@pytest.mark.parametrize("mode", ["random", "all"])
async def test_persist_half_repairs_what_is_missing(sandbox: Sandbox, tmp_path: Path,
                                                    mode: str) -> None:
    """Half stored (random subsets, or whole batches): the missing rows are found in the
    listing and sent again until every one is there, once."""
    sandbox.config.batch_persist, sandbox.config.batch_drop_mode = 0.5, mode
    report, valid = await batch_import(sandbox, tmp_path)
    assert_exactly_once(sandbox, valid, report)
    assert report.batch_leads_persisted + report.resent_single == len(valid)
    assert sandbox.state.counts["batch_leads_dropped"] > 0
    assert report.batch_requests > math.ceil(len(valid) / 50)  # the missing went again
    assert report.requests < len(valid) / 2  # still far below one request a lead


async def test_persist_0_sends_every_row_again_alone(sandbox: Sandbox, tmp_path: Path) -> None:
    """The bug as the documentation describes it (201, nothing stored): nothing is lost, every lead comes
    from a single POST after its batch was found missing."""
    report, valid = await batch_import(sandbox, tmp_path)
    assert_exactly_once(sandbox, valid, report)
    assert report.batch_leads_persisted == 0 and report.resent_single == len(valid)
    assert report.duplicates_removed == 0


async def test_late_batches_make_duplicates_that_are_removed(sandbox: Sandbox,
                                                             tmp_path: Path) -> None:
    """Stored after --settle: the first listing finds the batches missing, their rows go
    again, then the batches land. The extras are found and deleted, 50 a request; the
    leads that were in the client before the job, twins of the file's emails included, stay."""
    # Stored 1.3-1.9 s after the answer: after the first listing (a settle time, 1 s, on),
    # within the two settle times the last check covers.
    sandbox.config.batch_persist, sandbox.config.batch_persist_delay_ms = 1.0, (1300, 1900)
    store, user = sandbox.state.store, sandbox.state.user
    before = [store.insert_lead(user.company_id, user.id, {
        "client_id": "acme-corp", "firstName": "Old", "lastName": "Lead", "email": email})
        for email in ("lead3@example.com", "lead3@example.com", "lead5@example.com",
                      "someone@else.com")]
    report, valid = await batch_import(sandbox, tmp_path, settle_s=1.0, on_duplicate="create")
    on_server = server_emails(sandbox)
    assert all(store.get_lead(user.company_id, lead["id"]) for lead in before)
    assert (on_server["lead3@example.com"], on_server["lead5@example.com"]) == (3, 2)
    assert on_server["someone@else.com"] == 1
    for email in valid - {"lead3@example.com", "lead5@example.com"}:
        assert on_server[email] == 1, email
    assert report.created == len(valid) and report.failed == 0
    # Most rows were sent again (alone, or in batches when a listing had measured the first
    # batches whole) and their first batch landed too: one extra each, all removed.
    assert report.duplicates_removed >= report.resent_single > 0
    assert report.listed_late_s >= 1.3  # from each row's answer to the page that showed it
    assert sandbox.state.counts["DELETE /api/leads"] >= math.ceil(report.duplicates_removed / 50)


async def test_auto_falls_back_when_batches_store_nothing(sandbox: Sandbox,
                                                          tmp_path: Path) -> None:
    """auto sends one batch, finds it stored nothing, and sends single leads from then on,
    saying so once; the batch's rows are sent again alone."""
    report, valid = await batch_import(sandbox, tmp_path, strategy="auto")
    assert_exactly_once(sandbox, valid, report)
    assert report.strategy == "auto" and report.batch_requests == 1
    assert report.resent_single == 50
    # every other row went alone, and the summary counts them (it said 0 before)
    assert report.sent_alone == len(valid) - 50 == report.created - report.resent_single
    said = [n for n in report.notices if n.startswith("auto:")]
    assert len(said) == 1 and "stored 0%" in said[0]
    assert report.requests <= len(valid) + 20


async def test_auto_stays_on_batches_when_they_are_stored(sandbox: Sandbox,
                                                          tmp_path: Path) -> None:
    """auto: singles only while its first batch is verified, then batches. (A few senders,
    so that the listing does not queue behind hundreds of them for the quota.)"""
    sandbox.config.batch_persist = 1.0
    settings = settings_for(sandbox, rate_per_minute=6000, concurrency=8)
    report, valid = await batch_import(sandbox, tmp_path, strategy="auto", settle_s=0.2,
                                       settings=settings)
    assert_exactly_once(sandbox, valid, report)
    assert report.batch_leads_persisted > len(valid) / 2 and report.batch_requests > 5
    assert not [n for n in report.notices if n.startswith("auto:")]


async def test_batch_size(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.config.batch_persist = 1.0
    report, valid = await batch_import(sandbox, tmp_path, batch_size=10)
    assert_exactly_once(sandbox, valid, report)
    assert report.batch_requests == math.ceil(len(valid) / 10)


def test_the_threshold_is_the_request_arithmetic() -> None:
    """Batching pays while 1/(B·p) < 0.9 (the listings take at most a tenth of the quota)."""
    assert threshold(50) == pytest.approx(1 / 45)
    assert threshold(1) > 1  # a batch of one never pays


async def test_batches_through_chaos(sandbox: Sandbox, tmp_path: Path) -> None:
    """Half stored, 5% transient errors, 5% lost answers, 2% dropped connections, short-lived
    tokens and a quota: still every row once, and no 429."""
    c = sandbox.config
    c.batch_persist, c.error_rate, c.lost_response_rate, c.drop_rate = 0.5, 0.05, 0.05, 0.02
    c.token_ttl, c.quota_per_minute = 2, 3000
    report, valid = await batch_import(sandbox, tmp_path,
                                       settings=settings_for(sandbox, rate_per_minute=3000))
    assert_exactly_once(sandbox, valid, report)
    counts = sandbox.state.counts
    assert counts["lost:502"] + counts["lost:504"] + counts["lost:drop"] > 0
    assert counts["429"] == 0
