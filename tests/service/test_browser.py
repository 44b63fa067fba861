"""The web page in headless Chromium (Debian's `chromium`, driven by Playwright): log in,
upload samples/leads.csv, change a mapping, start, watch the job complete, check the counts
against the report and the sandbox, download the rejects; cancel a job; every page at 1280
and 390 px, without console errors. Screenshots go to build/screenshots/ (docs/screenshots/,
shown by the README, with BULKIO_SCREENSHOTS=docs/screenshots).

Skipped when Playwright or /usr/bin/chromium is missing, unless BULKIO_REQUIRE_BROWSER is set
(as CI sets it, after installing both)."""

from __future__ import annotations

import csv
import os
import random
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox
from bulkio.sandbox.seed import fake_lead_rows
from bulkio.sandbox.store import ENRICH, SOURCE
from tests.ops.imports.test_import import SAMPLES, expected_sample_emails, server_emails
from tests.service.conftest import Served, start_service, stop_service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTHS = pytest.mark.parametrize("width", [1280, 390], ids=["1280px", "390px"])
ROOT = Path(__file__).resolve().parents[2]
# Every run saves a screenshot of each page, in build/screenshots/ (ignored by git); the README's
# are a run's with BULKIO_SCREENSHOTS=docs/screenshots.
SHOTS = ROOT / os.environ.get("BULKIO_SCREENSHOTS", "build/screenshots")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - depends on the machine
    async_playwright = None  # type: ignore[assignment]

if async_playwright is None or not Path(CHROMIUM).exists():
    if os.environ.get("BULKIO_REQUIRE_BROWSER"):
        raise RuntimeError("browser tests need Playwright and Debian's chromium")
    pytest.skip("no Playwright or no chromium here (CI installs both)", allow_module_level=True)

# Expectations are about what the page comes to show, not how fast: a loaded machine's browser
# took more than Playwright's default 5 s to say "reconnecting" (one run in many).
expect.set_options(timeout=15_000)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def open_page(browser: Browser, served: Served, width: int, tmp_path: Path
                    ) -> tuple[Page, list[str]]:
    context = await browser.new_context(viewport={"width": width, "height": 900},
                                        accept_downloads=True)
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(served.url + "/")
    await page.get_by_label("Service token").fill(served.token)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Import leads from a CSV").wait_for()
    return page, problems


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1


async def api_job(served: Served, job_id: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(
            f"{served.url}/leads/import/jobs/{job_id}", headers=served.bearer()) as resp:
        return dict(await resp.json())


async def test_an_import_from_the_page(browser: Browser, service: Served, sandbox: Sandbox,
                                       tmp_path: Path) -> None:
    page, problems = await open_page(browser, service, 1280, tmp_path)
    await page.set_input_files("#file", str(SAMPLES / "leads.csv"))
    await page.get_by_role("heading", name="Preview: leads.csv").wait_for()
    assert "2,000 rows" in await page.locator("#preview-facts").inner_text()
    website = page.get_by_label("Lead field for column Website")
    assert await website.input_value() == "companyUrl"  # bulkio's own mapping, prefilled
    await website.select_option("")  # changed: not imported
    assert await website.locator("option:checked").inner_text() == "(not imported)"
    summary = page.locator("#summary")
    await expect(summary).to_have_text("Choose the client to import into.")  # none chosen for you
    await expect(page.get_by_label("When it ends, tell this webhook")).to_be_hidden()  # no host
    await page.get_by_role("region", name="Import leads from a CSV").get_by_label(
        "Client", exact=True).select_option("acme-corp")
    said = re.compile(
        r"^2,000 rows → Acme Corp \(acme-corp\): ([0-9,]+) to send, ([0-9]+) repeat an email "
        r"already in the file \(skipped\), ([0-9]+) will be rejected; emails the client already "
        r"has are skipped\.$")
    await expect(summary).to_have_text(said)
    match = said.match(await summary.inner_text())
    assert match is not None
    to_send, repeated, rejected = (int(g.replace(",", "")) for g in match.groups())
    await page.get_by_text("Why rows will be rejected").click()
    await expect(page.locator("#summary-reasons li").first).to_contain_text("invalid email")
    await page.get_by_text("Technical details: what will be sent").click()
    await expect(page.locator("#payloads")).to_contain_text("linda.white.0@cyberdyne.ai")
    # the answer to the latest mapping (an earlier answer may come first, never last)
    await expect(page.locator("#payloads")).not_to_contain_text("www.cyberdyne.ai")
    await shot(page, "import-1280")
    await page.get_by_role("button", name="Start the import").click()
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=120_000)
    job_id = page.url.rsplit("/", 1)[1]
    report = await api_job(service, job_id)
    shown = {key: int((await page.locator(f"[data-count={key}]").inner_text()).replace(",", ""))
             for key in ("created_count", "skipped_count", "rejected_count",
                         "send_failed_count", "total_rows")}
    assert {k: shown[k] for k in ("created_count", "skipped_count", "total_rows")} == {
        k: report[k] for k in ("created_count", "skipped_count", "total_rows")}
    # bad data apart from rows that could not be sent, as the report counts them
    assert shown["rejected_count"] == report["failed_count"] > 0
    # the summary before Start said what happened (a client with none of these emails)
    assert (to_send, repeated, rejected) == (report["created_count"], report["skipped_count"],
                                             report["failed_count"])
    assert shown["send_failed_count"] == 0
    stored = server_emails(sandbox)
    assert set(stored) == expected_sample_emails() and report["created_count"] == len(stored)
    lead = sandbox.state.store.db.execute("SELECT data FROM leads WHERE json_extract(data, "
                                          "'$.email') = 'linda.white.0@cyberdyne.ai'").fetchone()
    assert "cyberdyne" not in (orjson.loads(lead[0]).get("companyUrl") or "")
    await page.locator("#errors-table tbody tr").first.wait_for()
    await shot(page, "job-1280")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download the rejected rows").click()
    saved = tmp_path / "rejects.csv"
    await (await info.value).save_as(saved)
    with saved.open(encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.DictReader(f))) == report["failed_count"] == report["errors_total"]
    await page.get_by_role("link", name="Jobs").click()
    await page.get_by_role("link", name="Import of leads.csv into acme-corp").wait_for()
    await shot(page, "jobs-1280")
    await page.get_by_role("link", name="Export").click()
    await page.get_by_role("heading", name="Export leads").wait_for()
    await shot(page, "export-1280")
    await page.get_by_role("link", name="Purge").click()
    await page.locator("#purge-client").select_option("acme-corp")
    await page.get_by_role("button", name="Count its leads first").click()
    await expect(page.locator("#purge-plan")).to_contain_text("leads")
    await shot(page, "purge-1280")
    assert problems == []


@WIDTHS
async def test_cancel_a_job_then_resume_it(browser: Browser, service: Served,
                                           sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    """Cancelled midway, the job offers Resume; resumed, it ends with every email once."""
    sandbox.config.latency_ms = (40, 80)
    page, problems = await open_page(browser, service, width, tmp_path)
    await page.set_input_files("#file", str(SAMPLES / "leads.csv"))
    await page.get_by_role("region", name="Import leads from a CSV").get_by_label(
        "Client", exact=True).select_option("acme-corp")
    await page.get_by_role("button", name="Start the import").click()
    with anyio.fail_after(60):
        await sandbox.state.when("POST /api/leads", 200).wait()
    release = sandbox.state.hold("POST /api/leads")  # it cannot end before the cancel
    await expect(page.locator("#job-status")).to_have_text("Running")
    resume = page.get_by_role("button", name="Resume")
    await expect(resume).to_be_hidden()
    await page.get_by_role("button", name="Cancel").click()
    await expect(page.locator("#job-status")).to_have_text("Cancelled", timeout=60_000)
    release.set()
    assert len(server_emails(sandbox)) < 1901
    await expect(page.locator("[data-count=remaining_count]")).not_to_have_text("0")
    await expect(page.locator("[data-count=total_rows]")).to_have_text("2,000")  # was lost
    await expect(page.locator("#job-outcome")).to_have_text(re.compile(
        r"^[\d,]+ rows were done before it stopped \([\d,]+ created, 0 updated\); [\d,]+ "
        r"were not\. Resume continues where it stopped: no lead is sent twice\.$"))
    await page.get_by_text("How it ran").click()
    how = page.locator("#job-how-list")
    for said in ("Started fromthis page", "Fileleads.csv", "Clientacme-corp",
                 "An email the client hadskipped the row", "Rows without an emailrejected",
                 "Email columnE-mail"):
        await expect(how).to_contain_text(said)
    await page.get_by_role("link", name="Jobs").click()
    await expect(page.locator("#jobs-table tbody tr").first).to_contain_text("of 2,000 rows")
    await page.get_by_role("link", name="Import of leads.csv into acme-corp").click()
    sandbox.config.latency_ms = (0, 1)
    await resume.click()
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=120_000)
    await expect(resume).to_be_hidden()
    await expect(page.locator("[data-count=remaining_count]")).to_have_text("0")
    stored = server_emails(sandbox)
    assert set(stored) == expected_sample_emails() and max(stored.values()) == 1
    await no_sideways_scroll(page)
    assert problems == []


async def test_every_page_at_390_px(browser: Browser, service: Served, sandbox: Sandbox,
                                    tmp_path: Path) -> None:
    """No page scrolls sideways, even with a long client name picked (it widened the
    selects); the jobs list shows every column as a card (it showed three)."""
    long_name = "Société Générale des Établissements Industriels de la Région Parisienne"
    async with aiohttp.ClientSession() as http, http.post(
            service.url + "/clients", json={"name": long_name}, headers=service.bearer()) as r:
        slug = (await r.json())["client"]["slug"]
    page, problems = await open_page(browser, service, 390, tmp_path)
    await no_sideways_scroll(page)
    await page.set_input_files("#file", str(SAMPLES / "leads.csv"))
    await page.get_by_role("heading", name="Preview: leads.csv").wait_for()
    await page.locator("#client").select_option(slug)
    await no_sideways_scroll(page)
    await shot(page, "import-390")
    await page.get_by_role("button", name="Start the import").click()
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=120_000)
    await no_sideways_scroll(page)
    for name, heading, picker in (("Jobs", "Jobs", None), ("Export", "Export leads", "#export-client"),
                                  ("Purge", "Purge a client", "#purge-client")):
        await page.get_by_role("link", name=name, exact=True).click()
        await page.get_by_role("heading", name=heading).wait_for()
        if picker:
            await page.locator(picker).select_option(slug)
        await no_sideways_scroll(page)
        await shot(page, f"{name.lower()}-390")
        if name == "Jobs":
            card = page.locator("#jobs-table tbody tr").first
            for label, shown in (("Status", "Done"), ("Started from", "this page"),
                                 ("Rows", "of 2,000 rows")):
                cell = card.locator(f"td[data-label='{label}']")
                await expect(cell).to_be_visible()
                await expect(cell).to_contain_text(shown)
    assert problems == []


async def start_import(page: Page, path: Path, client: str = "acme-corp",
                       choose: Callable[[Page], Awaitable[None]] | None = None) -> str:
    """Upload `path`, pick the client (and make the `choose` choices), start; the job's id
    once its page shows."""
    await page.set_input_files("#file", str(path))
    await page.get_by_role("heading", name=f"Preview: {path.name}").wait_for()
    await page.get_by_role("region", name="Import leads from a CSV").get_by_label(
        "Client", exact=True).select_option(client)
    if choose is not None:
        await choose(page)
    await page.get_by_role("button", name="Start the import").click()
    await page.wait_for_url("**/#/jobs/job_*")
    return page.url.rsplit("/", 1)[1]


@pytest.mark.parametrize(("separator", "encoding"), [(";", "utf-8-sig"), ("\t", "cp1252")],
                         ids=["semicolons, UTF-8 with a BOM", "tabs, Windows-1252"])
@WIDTHS
async def test_row_errors_of_a_file_not_separated_by_commas(
        browser: Browser, service: Served, tmp_path: Path, separator: str, encoding: str,
        width: int) -> None:
    """The rejects file keeps the upload's separator; the errors table read it as commas and
    showed blank rows. Downloaded, it comes back as the upload was (encoding, BOM, separator),
    so Excel opens it as it opened the upload."""
    source = tmp_path / "fr.csv"
    rows = [["Prénom", "Nom", "E-mail"], ["Zoé", "Martin", "zoe@exemple.fr"],
            ["Loïc", "Petit", "pas-un-email"], ["Inès", "Roux", ""]]
    source.write_text("".join(separator.join(r) + "\n" for r in rows), encoding=encoding)
    page, problems = await open_page(browser, service, width, tmp_path)
    await start_import(page, source)
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    first = page.locator("#errors-table tbody tr").first
    await expect(first.locator("td").nth(0)).to_have_text("2")
    await expect(first.locator("td").nth(1)).to_contain_text("invalid email")
    await expect(first.locator("td").nth(2)).to_have_text("pas-un-email")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download the rejected rows").click()
    download = await info.value
    assert download.suggested_filename == "fr-rejects.csv"
    saved = tmp_path / "rejects.csv"
    await download.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    lines = raw.decode(encoding).splitlines()
    assert lines[0] == separator.join(["_row", "_error", "Prénom", "Nom", "E-mail"])
    assert lines[1].startswith(separator.join(["2", "invalid email"]))
    assert lines[2].startswith(separator.join(["3", "no email (tick “Import rows without an "
                                               "email” to import such rows)", "Inès"]))
    await no_sideways_scroll(page)
    assert problems == []


@WIDTHS
async def test_an_export_of_both_kinds_offers_both_files(
        browser: Browser, service: Served, sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    """It wrote two files and offered one name, a 404."""
    store = sandbox.state.store
    with store.bulk_load():
        for n, (stored, count) in enumerate(((ENRICH, 30), (SOURCE, 12))):
            store.insert_lead_rows(fake_lead_rows(random.Random(n), sandbox.state.user,
                                                  "acme-corp", count, 1000 * n, stored))
    page, problems = await open_page(browser, service, width, tmp_path)
    await page.get_by_role("link", name="Export").click()
    form = page.get_by_role("region", name="Export leads")
    await form.get_by_label("Leads", exact=True).select_option("all")
    await form.get_by_label("Client", exact=True).select_option("acme-corp")
    await form.get_by_label("Email", exact=True).check()
    await form.get_by_label("Last name", exact=True).check()
    await form.get_by_label("File", exact=True).select_option("csv;")
    await page.get_by_role("button", name="Start the export").click()
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    for kind, count in (("enrich", 30), ("source", 12)):
        async with page.expect_download() as info:
            await page.get_by_role("link", name=f"Download the {kind} leads").click()
        download = await info.value
        assert download.suggested_filename.startswith(f"acme-corp-{kind}-")
        saved = tmp_path / download.suggested_filename
        await download.save_as(saved)
        assert saved.read_bytes().startswith(b"\xef\xbb\xbfemail;lastName\r\n")  # for Excel
        with saved.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        assert len(rows) == count and all("@" in r["email"] for r in rows)
    await no_sideways_scroll(page)
    assert problems == []


@WIDTHS
async def test_a_running_job_shows_its_progress_and_a_readable_eta(
        browser: Browser, service: Served, sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    """Logged in through the form (the ETA once needed a reload), the job shows a bar, its
    pace in rows a minute and what is left in words (it showed raw seconds at the quota)."""
    sandbox.config.latency_ms = (40, 80)
    page, problems = await open_page(browser, service, width, tmp_path)
    await start_import(page, SAMPLES / "leads.csv")
    with anyio.fail_after(60):
        await sandbox.state.when("POST /api/leads", 200).wait()
    release = sandbox.state.hold("POST /api/leads")  # running (slowly) until cancelled
    speed = page.locator("#job-speed")
    await expect(speed).to_have_text(re.compile(
        r"^\d+% done · [\d,]+ rows a minute · about \d+ (s|min|h \d+ min) left$"), timeout=30_000)
    bar = page.get_by_role("progressbar", name="Rows done")
    await expect(bar).to_be_visible()
    await expect(page.get_by_role("img", name="Rows done over time")).to_be_visible()
    assert float(await bar.get_attribute("value") or 0) > 0
    assert await bar.get_attribute("max") == "2000"
    await page.get_by_role("button", name="Cancel").click()
    await expect(page.locator("#job-status")).to_have_text("Cancelled", timeout=60_000)
    release.set()
    await expect(speed).to_have_text("")
    await no_sideways_scroll(page)
    assert problems == []


@WIDTHS
async def test_the_service_restarting_under_a_watching_page(
        browser: Browser, sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    """The event stream held the shutdown for 2 minutes while the page showed a working
    Cancel; after the restart the user was logged out without a word. Now: the stop is
    prompt, the page says it is reconnecting (buttons off), the jobs list says it is stale,
    and after the restart the same page comes back, still logged in, and follows the job
    to its end (every email once)."""
    sandbox.config.latency_ms = (30, 60)
    served = await start_service(sandbox, tmp_path)
    port = served.url.rsplit(":", 1)[1]
    page, problems = await open_page(browser, served, width, tmp_path)
    jobs_page = await page.context.new_page()
    job_id = await start_import(page, SAMPLES / "leads.csv")
    with anyio.fail_after(60):
        await sandbox.state.when("POST /api/leads", 200).wait()
    release = sandbox.state.hold("POST /api/leads")  # the job cannot end before the stop
    await expect(page.locator("#job-status")).to_have_text("Running")
    await jobs_page.goto(served.url + "/#/jobs")
    await expect(jobs_page.locator("#jobs-table tbody tr")).to_have_count(1)
    assert await stop_service(served) == 0  # within stop_service's 30 s: it took 2 minutes
    banner = page.get_by_role("status").filter(has_text="reconnecting")
    await expect(banner).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel")).to_be_disabled()
    await expect(jobs_page.locator("#jobs-stale")).to_contain_text(
        "The service is not answering; this list is from")
    again = await start_service(sandbox, tmp_path, "--port", port, data_dir=served.data_dir)
    release.set()  # what was held lands now: answers the stopped service never read
    try:
        await expect(banner).to_be_hidden(timeout=30_000)
        await expect(page.locator("#job-status")).to_have_text("Done", timeout=120_000)
        assert page.url.endswith("/#/jobs/" + job_id)
        await expect(jobs_page.locator("#jobs-stale")).to_have_text("", timeout=30_000)
        stored = server_emails(sandbox)
        assert set(stored) == expected_sample_emails() and max(stored.values()) == 1
        # the browser's own line for each try while the service was stopping (503) or away,
        # and nothing else
        assert all("net::ERR_CONNECTION_REFUSED" in p or "status of 503" in p
                   for p in problems), problems
        problems.clear()
        # a session that has ended: said, and the login comes back to where the user was
        with sqlite3.connect(served.data_dir / "service.db") as db:
            db.execute("DELETE FROM sessions")
        await page.get_by_role("link", name="Jobs").click()
        await expect(page.locator("#login-why")).to_have_text(
            "Your session has ended: log in again to come back to this page.")
        await page.get_by_label("Service token").fill(again.token)
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("link", name="Import of leads.csv into acme-corp")
                     ).to_be_visible()
        assert page.url.endswith("/#/jobs")
    finally:
        await stop_service(again)
    assert all("status of 401" in p for p in problems), problems


@WIDTHS
async def test_files_that_cannot_give_leads_are_stopped_and_no_email_is_a_checkbox(
        browser: Browser, service: Served, sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    page, problems = await open_page(browser, service, width, tmp_path)
    start = page.get_by_role("button", name="Start the import")
    for name, body, said in (
            ("header-only.csv", "email,first\n", "This file has a header but no rows"),
            ("no-email.csv", "first,last\nAda,Lovelace\n", "No column of this file holds email")):
        (tmp_path / name).write_text(body)
        await page.set_input_files("#file", str(tmp_path / name))
        await page.get_by_role("heading", name=f"Preview: {name}").wait_for()
        await expect(page.locator("#preview-stop")).to_contain_text(said)
        await expect(start).to_be_hidden()
    source = tmp_path / "some-without.csv"
    source.write_text("email,first,last\nada@example.org,Ada,Lovelace\n,Grace,Hopper\n"
                      "alan@example.org,Alan,Turing\n")
    await page.set_input_files("#file", str(source))
    await page.get_by_role("heading", name="Preview: some-without.csv").wait_for()
    await page.locator("#client").select_option("acme-corp")
    summary = page.locator("#summary")
    await expect(summary).to_contain_text("2 to send, 1 will be rejected")
    await page.get_by_text("Why rows will be rejected").click()
    await expect(page.locator("#summary-reasons")).to_have_text(
        "row 2: no email (tick “Import rows without an email” to import such rows)")
    await page.get_by_label("Import rows without an email too").check()
    await expect(summary).to_contain_text("3 rows → Acme Corp (acme-corp): 3 to send;")
    await start.click()
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    await expect(page.locator("[data-count=created_count]")).to_have_text("3")
    names = sandbox.state.store.db.execute(
        "SELECT json_extract(data, '$.firstName') FROM leads WHERE client_id = 'acme-corp'")
    assert sorted(r[0] for r in names) == ["Ada", "Alan", "Grace"]
    await no_sideways_scroll(page)
    assert problems == []


@WIDTHS
async def test_undo_an_import_deletes_exactly_the_leads_it_created(
        browser: Browser, service: Served, sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    """The client held 30 leads; the import updates 2 of them and creates 5; undone, the 5
    are gone and the 30 are all there (the 2 keep their new values, as the page says)."""
    store = sandbox.state.store
    with store.bulk_load():
        store.insert_lead_rows(fake_lead_rows(random.Random(3), sandbox.state.user, "acme-corp",
                                              30, 5000))
    before = {lead_id: email for lead_id, email in store.db.execute(
        "SELECT id, json_extract(data, '$.email') FROM leads WHERE client_id = 'acme-corp'")}
    known = sorted(before.values())[:2]
    source = tmp_path / "mixed.csv"
    source.write_text("email,first\n" + "".join(f"{e},Known\n" for e in known)
                      + "".join(f"new{i}@example.org,New\n" for i in range(5)))
    page, problems = await open_page(browser, service, width, tmp_path)

    async def update_known(page: Page) -> None:
        await page.locator("#on-duplicate").select_option("update")

    await start_import(page, source, choose=update_known)
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    import_url = page.url
    await expect(page.locator("#undo-what")).to_have_text(
        "Undo deletes the 5 leads this import created in acme-corp, and no other lead. Leads it "
        "updated (2) keep their new values: their old ones were never kept.")
    await page.get_by_label("Type acme-corp to confirm").fill("acme")
    await page.get_by_role("button", name="Undo the import").click()
    await expect(page.locator("#undo-error")).to_contain_text("type acme-corp")
    assert server_emails(sandbox).total() == 35  # nothing sent for a wrong confirmation
    await page.get_by_label("Type acme-corp to confirm").fill("acme-corp")
    await page.get_by_role("button", name="Undo the import").click()
    await expect(page.locator("#job-title")).to_have_text(
        "Undo of the import of mixed.csv into acme-corp")
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    await expect(page.locator("[data-count=deleted]")).to_have_text("5")
    after = {lead_id: email for lead_id, email in store.db.execute(
        "SELECT id, json_extract(data, '$.email') FROM leads WHERE client_id = 'acme-corp'")}
    assert after == before  # every lead it did not create, and none it did
    await page.goto(import_url)
    await expect(page.locator("#undo-done")).to_have_text(
        "This import has an undo (Done): see it.")
    await expect(page.get_by_role("button", name="Undo the import")).to_be_hidden()
    await no_sideways_scroll(page)
    assert problems == []


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb() colours."""
    def luminance(color: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", color)[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


VISIBLE_TAB_STOPS = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')]
  .filter((el) => !el.disabled && el.tabIndex >= 0 && el.offsetParent !== null)
  .map((el) => ({ id: el.id || el.textContent.trim(), w: el.getBoundingClientRect().width,
                  h: el.getBoundingClientRect().height }))"""


@WIDTHS
async def test_keyboard_and_screen_reader_basics(browser: Browser, service: Served,
                                                 tmp_path: Path, width: int) -> None:
    """Each view's heading takes the focus and names the page; the nav marks where one is;
    the drop zone is one control that opens the file picker from the keyboard; every Tab
    stop can be seen; the focus ring stands out 3:1 or more."""
    page, problems = await open_page(browser, service, width, tmp_path)
    for link, heading in (("Import", "Import leads from a CSV"), ("Jobs", "Jobs"),
                          ("Export", "Export leads"), ("Purge", "Purge a client")):
        await page.get_by_role("link", name=link, exact=True).click()
        await expect(page.get_by_role("heading", name=heading)).to_be_focused()
        assert await page.title() == f"{heading} · bulkio"
        await expect(page.get_by_role("link", name=link, exact=True)).to_have_attribute(
            "aria-current", "page")
        stops = await page.evaluate(VISIBLE_TAB_STOPS)
        assert all(s["w"] > 2 and s["h"] > 2 for s in stops), stops  # no hidden Tab stop
    await page.get_by_role("link", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", name="Import leads from a CSV")).to_be_focused()
    drop = page.get_by_role("button", name="Choose a CSV file, or drop one here")
    await page.keyboard.press("Tab")
    while not await drop.evaluate("el => el === document.activeElement"):
        await page.keyboard.press("Tab")
    ring = await drop.evaluate("el => getComputedStyle(el).outlineColor")
    assert contrast(ring, "rgb(255, 255, 255)") >= 3
    async with page.expect_file_chooser() as chooser:
        await drop.press("Enter")  # on the drop zone itself (under load, focus can lag a Tab)
    await (await chooser.value).set_files(str(SAMPLES / "leads.csv"))
    await page.get_by_role("heading", name="Preview: leads.csv").wait_for()
    assert problems == []


@WIDTHS
async def test_the_rejected_rows_fixed_and_imported_in_one_step(
        browser: Browser, service: Served, sandbox: Sandbox, tmp_path: Path, width: int) -> None:
    """Download the rejects, fix them, import them back: same client, same columns; the
    values come in as typed (the formula guard of the download taken off)."""
    source = tmp_path / "team.csv"
    source.write_text("Mail;Prénom;Poste\nada@example.org;Ada;CTO\nbad-email;Grace;=HEAD()\n",
                      encoding="utf-8-sig")
    page, problems = await open_page(browser, service, width, tmp_path)

    async def poste_is_the_title(page: Page) -> None:
        await page.get_by_label("Lead field for column Poste").select_option("title")

    await start_import(page, source, choose=poste_is_the_title)
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    first_job = page.url
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download the rejected rows").click()
    rejects = tmp_path / "team-rejects.csv"
    await (await info.value).save_as(rejects)
    fixed = rejects.read_bytes().decode("utf-8-sig").replace("bad-email", "grace@example.org")
    assert "'=HEAD()" in fixed  # guarded in the download
    corrected = tmp_path / "team-fixed.csv"
    corrected.write_bytes(b"\xef\xbb\xbf" + fixed.encode())
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Import the corrected file…").click()
    await (await chooser.value).set_files(str(corrected))
    await page.wait_for_url(lambda url: url != first_job)
    await expect(page.locator("#job-title")).to_have_text(
        "Import of team-fixed.csv into acme-corp")
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    await expect(page.locator("[data-count=created_count]")).to_have_text("1")
    leads = {r[0]: r[1] for r in sandbox.state.store.db.execute(
        "SELECT json_extract(data, '$.email'), json_extract(data, '$.title') FROM leads "
        "WHERE client_id = 'acme-corp'")}
    assert leads == {"ada@example.org": "CTO", "grace@example.org": "=HEAD()"}
    await no_sideways_scroll(page)
    assert problems == []


@WIDTHS
async def test_a_saved_mapping_is_offered_for_the_next_file_with_the_same_columns(
        browser: Browser, service: Served, tmp_path: Path, width: int) -> None:
    first, second, other = tmp_path / "june.csv", tmp_path / "july.csv", tmp_path / "other.csv"
    first.write_text("Mail,Poste,Société\nada@example.org,CTO,Analytical\n")
    second.write_text("Société,Mail,Poste\nBabbage Ltd,charles@example.org,CEO\n")  # reordered
    other.write_text("Mail,Role\nalan@example.org,Scientist\n")
    page, problems = await open_page(browser, service, width, tmp_path)
    await page.set_input_files("#file", str(first))
    await page.get_by_role("heading", name="Preview: june.csv").wait_for()
    await expect(page.get_by_label("Use a saved mapping")).to_be_hidden()
    await page.get_by_label("Lead field for column Poste").select_option("title")
    await page.get_by_label("Lead field for column Société").select_option("companyName")
    await page.get_by_label("Save these columns as").fill("Salon 2026")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.locator("#mapping-saved")).to_contain_text("Saved as “Salon 2026”")
    await page.set_input_files("#file", str(other))
    await page.get_by_role("heading", name="Preview: other.csv").wait_for()
    await expect(page.get_by_label("Use a saved mapping")).to_be_hidden()  # other columns
    await page.set_input_files("#file", str(second))
    await page.get_by_role("heading", name="Preview: july.csv").wait_for()
    await page.get_by_label("Use a saved mapping").select_option(label="Salon 2026")
    await expect(page.get_by_label("Lead field for column Poste")).to_have_value("title")
    await expect(page.get_by_label("Lead field for column Société")).to_have_value("companyName")
    await page.locator("#client").select_option("acme-corp")
    await page.get_by_text("Technical details: what will be sent").click()
    await expect(page.locator("#payloads")).to_contain_text('"companyName":"Babbage Ltd"')
    await no_sideways_scroll(page)
    assert problems == []


@WIDTHS
async def test_rows_read_with_a_stray_quote_are_shown(browser: Browser, service: Served,
                                                      tmp_path: Path, width: int) -> None:
    """A quote that did not close is kept as typed: the page lists those rows to check."""
    page, problems = await open_page(browser, service, width, tmp_path)
    await start_import(page, ROOT / "tests" / "data" / "broken" / "stray-inner-quotes.csv")
    await expect(page.locator("#job-status")).to_have_text("Done", timeout=60_000)
    await expect(page.get_by_role("heading", name="Rows read with a stray quote kept as typed")
                 ).to_be_visible()
    await expect(page.locator("#repaired-list li")).to_have_text(
        ["row 1, column notes", "row 2, column notes"])
    await no_sideways_scroll(page)
    assert problems == []
