"""bulkio process against the sandbox, in process: every selected lead triggered exactly once
(counted on the sandbox's own records), every run tracked to its end, the results on the
leads; skipped services, --where, --leads, lost answers."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from bulkio.api import dry_run_process, export_leads, make_spec, process_leads, process_status
from bulkio.errors import ConfigError
from bulkio.ops.process.report import PROCESS_REPORT_KEYS, ProcessReport
from bulkio.sandbox import Sandbox, SandboxConfig
from bulkio.sandbox.processing import seed_settings
from tests.ops.exports.test_export import settings_for
from tests.ops.imports.test_import import FAST

LEADS = 300


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=LEADS,
                         processing_settings=True, run_seconds=(0.05, 0.3))


def lead_ids(sb: Sandbox, slug: str = "acme-corp") -> list[str]:
    return [i for (i,) in sb.state.store.db.execute(
        "SELECT id FROM leads WHERE client_id = ? ORDER BY seq", (slug,))]


def triggers(sb: Sandbox, kind: str) -> Counter[str]:
    """How many times the server ran a trigger of `kind` for each lead."""
    return Counter({lead: n for (lead, k), n in sb.state.processing.triggers.items() if k == kind})


def server_runs(sb: Sandbox) -> dict[str, Any]:
    return dict(sb.state.processing.runs)


def results(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


async def process(sb: Sandbox, tmp_path: Path, kind: str, items: list[Any], *,
                  client: str | None = "acme-corp", leads_file: Path | None = None,
                  where: tuple[str, ...] = (), overwrite: bool = False, rate: float | None = None,
                  **options: Any) -> ProcessReport:
    options.setdefault("job_dir", tmp_path / "job")
    options.setdefault("settle", 1.0)
    options.setdefault("policy", FAST)
    spec = make_spec(kind, items, client=client, leads_file=leads_file, where=where,
                     overwrite=overwrite)
    return await process_leads(spec, settings=settings_for(sb, rate_per_minute=rate), **options)


def clear_filled(sb: Sandbox, *fields: str) -> None:
    """Seeded leads may carry a companyUrl already: empty these fields on every lead."""
    store = sb.state.store
    for lead_id in lead_ids(sb):
        lead = store.get_lead(sb.company_id, lead_id)
        assert lead is not None
        for name in fields:
            lead.pop(name, None)
        store.db.execute("UPDATE leads SET data = ? WHERE id = ?",
                         (orjson.dumps(lead).decode(), lead_id))


async def test_every_lead_is_enriched_once_and_each_run_tracked_to_its_end(
        sandbox: Sandbox, tmp_path: Path) -> None:
    clear_filled(sandbox, "companyUrl", "enrichment1")
    report = await process(sandbox, tmp_path, "enrich", ["companyUrl", "enrichment1"], wait=True)
    ids = lead_ids(sandbox)
    assert triggers(sandbox, "enrich") == Counter(dict.fromkeys(ids, 1))
    assert (report.leads, report.triggered, report.skipped, report.unknown) == (LEADS, LEADS, 0, 0)
    assert report.runs == 2 * LEADS == len(server_runs(sandbox))
    assert (report.completed, report.failed, report.running) == (2 * LEADS, 0, 0) and report.ok
    saved = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
    assert tuple(saved) == PROCESS_REPORT_KEYS and saved["completed"] == 2 * LEADS
    lines = results(tmp_path / "job" / "results.ndjson")
    assert [r["leadId"] for r in lines] == ids
    assert all(r["state"] == "triggered" and {x["status"] for x in r["runs"]} == {"COMPLETED"}
               for r in lines)
    out = tmp_path / "after.ndjson"
    await export_leads(out, settings=settings_for(sandbox), policy=FAST, client="acme-corp",
                       job_dir=tmp_path / "export")
    exported = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(exported) == LEADS
    assert all(r["companyUrl"].startswith("https://www.") and r["enrichment1"] for r in exported)


async def test_services_the_settings_lack_are_skipped_and_said(sandbox: Sandbox,
                                                                tmp_path: Path) -> None:
    """enrichment7 has no URL: skipped for every lead, said once; a lead whose every runnable
    target is filled is skipped without a request; the server's own skips are per lead."""
    clear_filled(sandbox, "companyUrl", "enrichment1")
    ids = lead_ids(sandbox)
    store = sandbox.state.store
    store.update_lead(sandbox.company_id, ids[0], {"companyUrl": "https://a", "enrichment1": "x"})
    store.update_lead(sandbox.company_id, ids[1], {"companyUrl": "https://b"})
    plan = await dry_run_process(make_spec("enrich", ["companyUrl", "enrichment1", "enrichment7"],
                                           client="acme-corp"), settings=settings_for(sandbox))
    assert plan.not_configured == ["enrichment7"] and plan.already_filled == 1
    assert plan.to_trigger == LEADS - 1 and "POST /api/leads/process/enrich" not in sandbox.state.counts
    report = await process(sandbox, tmp_path, "enrich", ["companyUrl", "enrichment1", "enrichment7"])
    assert report.skipped == 1 and report.triggered == LEADS - 1
    assert any("enrichment7" in n for n in report.notices)
    lines = {r["leadId"]: r for r in results(tmp_path / "job" / "results.ndjson")}
    assert lines[ids[0]]["state"] == "skipped" and ids[0] not in triggers(sandbox, "enrich")
    assert lines[ids[1]]["triggered"] == ["enrichment1"]
    assert set(lines[ids[1]]["skipped"]) == {"companyUrl", "enrichment7"}
    assert not report.running or not report.tracked


async def test_a_run_with_nothing_to_trigger_is_a_config_error(sandbox: Sandbox,
                                                                tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"every lead would be skipped.*enrichment9"):
        await process(sandbox, tmp_path, "enrich", ["enrichment9"])
    sandbox.state.processing.settings.clear()
    with pytest.raises(ConfigError, match="sdr-ai settings"):
        await process(sandbox, tmp_path, "sdr", ["aiLeadScore"])
    assert not (tmp_path / "job").exists()
    assert "POST /api/leads/process/sdr" not in sandbox.state.counts


async def test_where_selects_on_the_projected_listing(sandbox: Sandbox, tmp_path: Path) -> None:
    """--where aiLeadScore= : only the leads without a score are scored."""
    ids = lead_ids(sandbox)
    for lead_id in ids[:100]:
        sandbox.state.store.update_lead(sandbox.company_id, lead_id, {"aiLeadScore": 50})
    for lead_id in ids[100:]:
        sandbox.state.store.update_lead(sandbox.company_id, lead_id, {"aiLeadScore": None})
    report = await process(sandbox, tmp_path, "sdr", ["aiLeadScore", "aiQualification"],
                           where=("aiLeadScore=",), overwrite=True, wait=True)
    assert set(triggers(sandbox, "sdr")) == set(ids[100:])
    assert report.leads == report.triggered == LEADS - 100 and report.runs == LEADS - 100


async def test_leads_file_with_a_missing_lead_goes_on(sandbox: Sandbox, tmp_path: Path) -> None:
    """--leads: ids (or an export's NDJSON); an id that is not a lead is reported, not fatal."""
    ids = lead_ids(sandbox)[:5]
    listed = tmp_path / "leads.txt"
    listed.write_text("\n".join([*ids, "lead-gone"]) + "\n")
    report = await process(sandbox, tmp_path, "copyright", [1, 2], client=None, leads_file=listed,
                           overwrite=True)
    assert (report.leads, report.triggered, report.not_found) == (6, 5, 1)
    lines = {r["leadId"]: r for r in results(tmp_path / "job" / "results.ndjson")}
    assert lines["lead-gone"]["state"] == "not_found" and lines["lead-gone"]["error"]
    as_export = tmp_path / "leads.ndjson"
    as_export.write_bytes(b"".join(orjson.dumps({"id": i, "email": "x"}) + b"\n" for i in ids))
    again = await process(sandbox, tmp_path, "copyright", [3], client="acme-corp",
                          leads_file=as_export, job_dir=tmp_path / "job2", overwrite=True)
    assert again.triggered == 5 and set(triggers(sandbox, "copyright")) == set(ids)


@pytest.mark.parametrize(("names", "skew"), [("kind", 0.0), ("opaque", 0.0), ("opaque", -90.0),
                                              ("kind", 90.0)],
                         ids=["kind names", "opaque names", "clock 90 s behind", "clock 90 s ahead"])
async def test_lost_answers_are_looked_up_never_sent_twice(sandbox: Sandbox, tmp_path: Path,
                                                           names: str, skew: float) -> None:
    """A third of the answers lost after the work is done, two services, --overwrite (a second
    trigger would be a second paid run): each such lead's runs are found in the recent runs,
    whatever the server calls its tasks and however its clock is set; nothing is sent twice,
    and the report and --out say what the server did."""
    clear_filled(sandbox, "enrichment1", "enrichment2")
    sandbox.config.task_names, sandbox.config.clock_skew_s = names, skew
    sandbox.config.lost_response_rate = 0.3
    # Reads lose their answers too: 12 tries (not 6) so that no listing runs out of them
    # (0.3^6, about 1 in 1,400 a read, failed a run now and then), which is not the subject.
    report = await process(sandbox, tmp_path, "enrich", ["enrichment1", "enrichment2"],
                           rate=20_000, overwrite=True, policy=replace(FAST, attempts=12))
    sandbox.config.lost_response_rate = 0.0
    assert triggers(sandbox, "enrich") == Counter(dict.fromkeys(lead_ids(sandbox), 1))
    assert (report.triggered, report.skipped, report.unknown) == (LEADS, 0, 0)
    assert report.runs == 2 * LEADS == len(server_runs(sandbox))
    lines = results(tmp_path / "job" / "results.ndjson")
    assert all(r["state"] == "triggered" and len(r["runIds"]) == 2 and
               set(r["runIds"]) <= set(sandbox.state.processing.runs) for r in lines)


async def test_triggers_that_never_ran_are_sent_again_once(sandbox: Sandbox,
                                                           tmp_path: Path) -> None:
    """500s before the work (ambiguous to a client): no run shows up in the settle time, so
    the lead is sent again; the server ran each trigger once."""
    clear_filled(sandbox, "enrichment1")
    sandbox.config.error_rate = 0.2
    sandbox.config.chaos_seed = 7
    report = await process(sandbox, tmp_path, "enrich", ["enrichment1"], rate=20_000, wait=True)
    sandbox.config.error_rate = 0.0
    assert triggers(sandbox, "enrich") == Counter(dict.fromkeys(lead_ids(sandbox), 1))
    assert report.triggered == LEADS and report.unknown == 0 and report.completed == LEADS


async def test_status_tracks_the_runs_of_a_job_that_did_not_wait(sandbox: Sandbox,
                                                                 tmp_path: Path) -> None:
    clear_filled(sandbox, "enrichment2")
    report = await process(sandbox, tmp_path, "enrich", ["enrichment2"])
    assert report.running == LEADS and not report.tracked
    with pytest.raises(ConfigError, match=r"already run.*process status"):
        await process(sandbox, tmp_path, "enrich", ["enrichment2"])
    tracked = await process_status(tmp_path / "job", settings=settings_for(sandbox), wait=True,
                                   policy=FAST)
    assert (tracked.completed, tracked.running, tracked.triggered) == (LEADS, 0, LEADS)
    assert tracked.ok and triggers(sandbox, "enrich").total() == LEADS


async def test_runs_past_the_wait_timeout_are_reported_running(sandbox: Sandbox,
                                                               tmp_path: Path) -> None:
    sandbox.config.run_seconds = (30.0, 30.0)
    seed_settings(sandbox.state.processing, sandbox.company_id)
    report = await process(sandbox, tmp_path, "copyright", [1], overwrite=True, wait=True,
                           wait_timeout=0.5)
    assert report.running == LEADS and not report.ok
    lines = results(tmp_path / "job" / "results.ndjson")
    assert all("wait-timeout" in r["runs"][0]["error"] for r in lines)


@pytest.mark.slow
async def test_two_thousand_leads_through_chaos(make_sandbox: Any, tmp_path: Path) -> None:
    """Lost answers, 5xx before the work, dropped connections, 3-second tokens and a quota
    the client runs at: every lead triggered exactly once, every run tracked to its end, the
    enriched fields in a following export."""
    async with make_sandbox(quota_per_minute=30_000, clients=1, leads=2000,
                            processing_settings=True, run_seconds=(0.2, 1.5), token_ttl=3.0,
                            lost_response_rate=0.03, error_rate=0.03, drop_rate=0.01,
                            latency_ms=(2, 20), chaos_seed=11) as sb:
        clear_filled(sb, "enrichment2")
        sb.state.processing.settings[(sb.company_id, "url")]["enrichment2"] = "https://e2"
        report = await process(sb, tmp_path, "enrich", ["enrichment2"], rate=30_000, wait=True,
                               settle=2.0)
        chaos = sb.state.counts
        sb.config.lost_response_rate = sb.config.error_rate = sb.config.drop_rate = 0.0
        ids = lead_ids(sb)
        assert triggers(sb, "enrich") == Counter(dict.fromkeys(ids, 1))
        assert (report.triggered, report.unknown, report.not_sent) == (2000, 0, 0)
        assert (report.runs, report.completed, report.running) == (2000, 2000, 0) and report.ok
        assert chaos["refresh"] + chaos["login"] > 3 and chaos["429"] + report.retries > 0
        assert any(k.startswith("lost:") for k in chaos) and any(k.startswith("fault:") for k in chaos)
        out = tmp_path / "after.ndjson"
        await export_leads(out, settings=settings_for(sb), policy=FAST, client="acme-corp",
                           job_dir=tmp_path / "export")
        exported = [orjson.loads(line) for line in out.read_bytes().splitlines()]
        assert len(exported) == 2000 and all(r.get("enrichment2") for r in exported)


async def test_a_trigger_that_cannot_be_looked_up_ends_unknown_until_retriggered(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """A lead left in doubt an hour ago (the recent runs no longer reach back to it) ends
    `unknown`, never re-sent; --retrigger-unknown sends it again."""
    from bulkio.store.process_journal import ProcessJournal

    clear_filled(sandbox, "enrichment1")
    await process(sandbox, tmp_path, "enrich", ["enrichment1"])  # 300 runs: a full view
    ids = lead_ids(sandbox)
    journal = ProcessJournal(tmp_path / "job" / "journal.db")
    journal.db.execute("UPDATE leads SET state = 'attempted', sent_at = ?, unknown_at = ? "
                       "WHERE lead_id = ?", (time.time() - 3600, time.time() - 3600, ids[7]))
    journal.db.execute("DELETE FROM runs WHERE n = (SELECT n FROM leads WHERE lead_id = ?)",
                       (ids[7],))
    journal.set_meta(status="running")
    journal.close()
    report = await process(sandbox, tmp_path, "enrich", ["enrichment1"], resume=True)
    assert report.unknown == 1 and not report.ok
    assert triggers(sandbox, "enrich")[ids[7]] == 1  # not sent again
    line = next(r for r in results(tmp_path / "job" / "results.ndjson") if r["leadId"] == ids[7])
    assert line["state"] == "unknown" and line["error"]
    again = await process(sandbox, tmp_path, "enrich", ["enrichment1"], resume=True,
                          retrigger_unknown=True, overwrite=False)
    assert again.unknown == 0 and (again.triggered, again.skipped) == (LEADS - 1, 1)
    assert triggers(sandbox, "enrich")[ids[7]] == 2  # as asked (its first run had filled the
    #                                                  field meanwhile: the server skipped it)
