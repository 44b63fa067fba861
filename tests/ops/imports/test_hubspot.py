"""`import hubspot:contacts` and `hubspot:leads-v1` against the sandbox's HubSpot twin, in
process: what lands on the server (checked against the twin's own tables, mapped here by the
guide's table independently of bulkio), through chaos on both sides, a tight HubSpot quota,
HubSpot's daily cap and an outage, and a list growing while it is paged."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from bulkio.api import import_leads
from bulkio.errors import AuthError, Interrupted
from bulkio.models import ImportReport
from bulkio.sandbox import Sandbox, SandboxConfig
from bulkio.sources.hubspot.settings import HubSpotSettings
from tests.conftest import MakeSandbox
from tests.ops.imports.test_import import FAST, server_emails, settings_for

CONTACTS = 600
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, hubspot_contacts=CONTACTS,
                         hubspot_leads_v1=250, hubspot_rate=None, chaos_seed=11)


async def run(sb: Sandbox, kind: str, tmp_path: Path, **options: Any) -> ImportReport:
    options.setdefault("client", "acme-corp")
    options.setdefault("settle_s", 0.0)
    options.setdefault("job_dir", tmp_path / f"job-{kind}")
    hubspot = HubSpotSettings(base_url=sb.base_url, token=sb.hubspot_token, rate_per_10s=None)
    return await import_leads(f"hubspot:{kind}", settings=settings_for(sb), policy=FAST,
                              hubspot=hubspot, **options)


def expected_contacts(sb: Sandbox, *, live_only: bool = False, before_ms: int | None = None
                      ) -> dict[str, dict[str, Any]]:
    """email -> what the guide's table makes of the contact, from the twin's own tables
    (`live_only`: its archived contacts left out; `before_ms`: only those last changed
    before then)."""
    db = sb.hubspot.store.db
    companies = {str(cid): orjson.loads(props) for cid, props in
                 db.execute("SELECT id, props FROM hs_companies")}
    expected = {}
    where = " WHERE archived_at IS NULL" if live_only else ""
    if before_ms is not None:
        where += f"{' AND' if where else ' WHERE'} modified_ms < {int(before_ms)}"
    for props_json, links_json in db.execute(f"SELECT props, companies FROM hs_contacts{where}"):
        props, links = orjson.loads(props_json), orjson.loads(links_json)
        email = props.get("email")
        if not email or not EMAIL.match(email):
            continue
        primary = next((str(c) for c, kind in links if kind == "contact_to_company"),
                       str(links[0][0]) if links else None)
        company = companies.get(primary or "", {})
        expected[email.lower()] = {
            "companyName": company.get("name") or props.get("company") or None,
            "companyDomain": company.get("domain"),
            "phoneNumber": props.get("phone") or props.get("mobilephone") or None,
            "title": props.get("jobtitle"),
            "notes": [line for label, value in (("Lifecycle stage", props.get("lifecyclestage")),
                                                ("Lead status", props.get("hs_lead_status")),
                                                ("Industry", company.get("industry")))
                      if value for line in [f"{label}: {value}"]],
        }
    return expected


def stored(sb: Sandbox, slug: str = "acme-corp") -> dict[str, dict[str, Any]]:
    rows = sb.state.store.db.execute("SELECT data FROM leads WHERE client_id = ?", (slug,))
    return {lead["email"].lower(): lead for lead in (orjson.loads(r[0]) for r in rows)}


async def test_contacts_land_once_with_the_guide_s_mapping(sandbox: Sandbox, tmp_path: Path) -> None:
    """Company from the (primary) association, phone from mobilephone, notes lines; every
    contact with an email once; HubSpot asked about 0.02 requests a contact."""
    report = await run(sandbox, "contacts", tmp_path)
    expected = expected_contacts(sandbox)
    leads = stored(sandbox)
    assert set(leads) == set(expected) and set(server_emails(sandbox).values()) == {1}
    for email, want in expected.items():
        lead = leads[email]
        assert lead.get("companyName") == want["companyName"], email
        assert lead.get("phoneNumber") == want["phoneNumber"], email
        assert lead.get("title") == want["title"] and lead.get("companyDomain") == want["companyDomain"]
        assert [n for n in lead.get("notes", "").split("\n") if n and not n.startswith("company:")] \
            == want["notes"], email
        assert lead["firstName"] and lead["lastName"]
    assert report.created == len(expected) and report.rows_read == CONTACTS
    hubspot_requests = sum(n for key, n in sandbox.state.counts.items()
                           if key.startswith(("GET /crm", "POST /crm")))
    assert hubspot_requests / CONTACTS <= 0.03


async def test_rejects_are_ndjson_with_the_hubspot_id(sandbox: Sandbox, tmp_path: Path) -> None:
    """A contact without an email is in the rejects file: _hubspot_id, _error, its properties."""
    report = await run(sandbox, "contacts", tmp_path)
    lines = [orjson.loads(line) for line in Path(str(report.rejects_path)).read_bytes().splitlines()]
    assert len(lines) == report.rejected > 0
    assert all(line["_hubspot_id"] and "no email" in line["_error"] for line in lines)


async def test_chaos_on_both_sides_every_contact_once(make_sandbox: MakeSandbox,
                                                      tmp_path: Path) -> None:
    """Errors, lost answers and dropped connections on LeadGenius and HubSpot alike."""
    async with make_sandbox(clients=1, hubspot_contacts=CONTACTS, hubspot_rate=None,
                            error_rate=0.08, lost_response_rate=0.05, drop_rate=0.03,
                            chaos_seed=5) as sb:
        report = await run(sb, "contacts", tmp_path)
        assert set(stored(sb)) == set(expected_contacts(sb))
        assert set(server_emails(sb).values()) == {1} and report.failed == 0
        assert sb.state.counts["fault:500"] + sb.state.counts["fault:503"] > 0


async def test_a_tight_hubspot_quota_is_kept_without_a_429_storm(make_sandbox: MakeSandbox,
                                                                 tmp_path: Path) -> None:
    """HubSpot allows 4 requests per 0.4 s here: bulkio takes the pace from its headers (and
    pauses on a 429) instead of hammering it."""
    async with make_sandbox(clients=1, hubspot_contacts=1500, hubspot_rate=4,
                            hubspot_interval_ms=400) as sb:
        hubspot = HubSpotSettings(base_url=sb.base_url, token=sb.hubspot_token)
        await import_leads("hubspot:contacts", client="acme-corp", settings=settings_for(sb),
                           policy=FAST, hubspot=hubspot, settle_s=0.0, job_dir=tmp_path / "job")
        assert set(stored(sb)) == set(expected_contacts(sb))
        assert sb.state.counts["hubspot:429"] <= 2


async def test_v1_leads_with_inserts_while_paging_none_missed_none_twice(
        make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    """The list grows by one lead with each request: every lead with an email lands once."""
    async with make_sandbox(clients=1, hubspot_leads_v1=450, hubspot_rate=None,
                            hubspot_insert_during_paging=4, chaos_seed=2) as sb:
        report = await run(sb, "leads-v1", tmp_path)
        db = sb.hubspot.store.db
        want = {orjson.loads(d)["email"].lower() for (d,) in db.execute("SELECT data FROM hs_v1_leads")
                if orjson.loads(d)["email"]}
        assert sb.hubspot.inserted == 4 and len(want) > 440
        assert set(stored(sb)) == want and set(server_emails(sb).values()) == {1}
        assert report.rows_read == 454  # repeats at page boundaries are not rows
        lead = next(iter(stored(sb).values()))
        assert lead.get("notes", "").startswith(("City:", "Country:")) or "notes" not in lead


async def test_the_daily_quota_interrupts_and_resume_finishes(make_sandbox: MakeSandbox,
                                                              tmp_path: Path) -> None:
    """HubSpot's daily cap reached: the run stops as an interruption (report written), saying
    when it resets; resumed once there is quota again, every contact once."""
    async with make_sandbox(clients=1, hubspot_contacts=CONTACTS, hubspot_rate=None,
                            hubspot_daily=4) as sb:
        with pytest.raises(Interrupted, match=r"daily request quota is used up .* midnight"):
            await run(sb, "contacts", tmp_path)
        report = orjson.loads((tmp_path / "job-contacts" / "report.json").read_bytes())
        assert 0 < report["rows_read"] < CONTACTS
        sb.config.hubspot_daily = None
        await run(sb, "contacts", tmp_path, resume=True)
        assert set(stored(sb)) == set(expected_contacts(sb))
        assert set(server_emails(sb).values()) == {1}


async def test_a_hubspot_outage_interrupts_and_resume_finishes(sandbox: Sandbox,
                                                               tmp_path: Path) -> None:
    """HubSpot answering 503 through every retry from its third page on: interrupted, with
    the pages before it imported; resumed once HubSpot is back, every contact once."""
    down = sandbox.state.when("GET /crm/v3/objects/contacts", 3)

    async def outage() -> None:
        await down.wait()
        sandbox.config.hubspot_down = True

    import anyio

    async with anyio.create_task_group() as tg:
        tg.start_soon(outage)
        with pytest.raises(Interrupted, match="HubSpot did not answer"):
            await run(sandbox, "contacts", tmp_path)
    assert 0 < len(stored(sandbox)) < len(expected_contacts(sandbox))
    sandbox.config.hubspot_down = False
    await run(sandbox, "contacts", tmp_path, resume=True)
    assert set(stored(sandbox)) == set(expected_contacts(sandbox))
    assert set(server_emails(sandbox).values()) == {1}


async def test_a_missing_scope_is_an_auth_error_naming_it(make_sandbox: MakeSandbox,
                                                          tmp_path: Path) -> None:
    async with make_sandbox(clients=1, hubspot_contacts=10,
                            hubspot_scopes=("crm.objects.contacts.read",)) as sb:
        with pytest.raises(AuthError, match=r"lacks the scope crm\.objects\.companies\.read"):
            await run(sb, "contacts", tmp_path)


async def test_contacts_in_verified_batches(sandbox: Sandbox, tmp_path: Path) -> None:
    """--strategy batch works for HubSpot as for files: half the batches' leads stored, the
    rest found missing and sent again; every contact with an email once."""
    sandbox.config.batch_persist = 0.5
    report = await run(sandbox, "contacts", tmp_path, strategy="batch")
    assert set(stored(sandbox)) == set(expected_contacts(sandbox))
    assert set(server_emails(sandbox).values()) == {1}
    assert report.batch_requests > 0 and report.batch_leads_persisted > 0
