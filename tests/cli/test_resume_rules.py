"""A --resume runs under the rules its job started with: a rule given again with another value
is refused in one line naming it and both values (exit 2, nothing sent); a rule left out takes
the job's value; pace may change freely."""

from __future__ import annotations

from pathlib import Path

import anyio
import orjson
import pytest

from bulkio.api import export_leads, purge_client
from bulkio.cli.main import main
from bulkio.sandbox import Sandbox, SandboxConfig
from bulkio.store.import_journal import ImportJournal
from tests.cli.test_import_cli import bulkio, credentials  # noqa: F401  (autouse fixture)
from tests.conftest import MakeSandbox
from tests.ops.imports.test_import import run, settings_for
from tests.processes import cancel_when, sandbox_env

ROWS = 200


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, latency_ms=(2, 5))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text("Email,First Name,Company,Fax\r\n" + "".join(
        f"r{i}@x.com,R{i},Co {i},+1 555 {i:04d}\r\n" for i in range(ROWS)))
    return path


async def stopped_after(sb: Sandbox, source: Path, tmp_path: Path, count: int,
                        event: str = "POST /api/leads", **options: object) -> None:
    """An import stopped (as Ctrl-C would) once the server has seen `count` more `event`s."""
    await cancel_when(sb, run(sb, source, tmp_path, settings=settings_for(sb, concurrency=1),
                              **options), event=event, count=sb.state.counts[event] + count)


def leads(sb: Sandbox) -> list[dict[str, object]]:
    return [orjson.loads(d) for (d,) in sb.state.store.db.execute(
        "SELECT data FROM leads WHERE client_id = 'acme-corp'")]


async def test_a_resume_with_another_mapping_is_refused_and_one_without_finishes_as_begun(
        sandbox: Sandbox, source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
        ) -> None:
    """The issue's case: stopped at 63 rows, resumed with another --mapping and --unmapped.
    Refused, in one line, nothing sent; resumed without them, every lead has its company and
    no phone, as the first 63."""
    await stopped_after(sandbox, source, tmp_path, 63)
    posts = sandbox.state.counts["POST /api/leads"]
    other = tmp_path / "other-mapping.json"
    other.write_text('{"Fax": "phoneNumber", "Company": null}')
    job = ["--client", "acme-corp", "--job-dir", str(tmp_path / "job"), "--resume"]
    code = await bulkio("import", str(source), *job, "--mapping", str(other), "--unmapped", "notes")
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "--mapping" in err[0] and "--unmapped notes (the job: (the source's own))" in err[0]
    assert sandbox.state.counts["POST /api/leads"] == posts  # nothing sent
    assert await bulkio("import", str(source), *job) == 0
    stored = leads(sandbox)
    assert len(stored) == ROWS
    assert all(lead.get("companyName") and "phoneNumber" not in lead and "notes" not in lead
               for lead in stored)


async def test_a_left_out_rule_is_the_jobs_and_a_changed_one_is_refused(
        sandbox: Sandbox, source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
        ) -> None:
    """--on-duplicate update interrupted, then resumed with skip: refused; resumed without the
    flag: every lead updated, as the job began. The pace (--rate, --settle) may change."""
    await run(sandbox, source, tmp_path, job_dir=tmp_path / "first")  # every lead exists
    changed = source.with_name("changed.csv")
    changed.write_text(source.read_text().replace(",Co ", ",New Co "))
    await stopped_after(sandbox, changed, tmp_path, 1, "PUT /api/leads", on_duplicate="update")
    job = ["--client", "acme-corp", "--job-dir", str(tmp_path / "job"), "--resume"]
    assert await bulkio("import", str(changed), *job, "--on-duplicate", "skip") == 2
    err = capsys.readouterr().err
    assert "--on-duplicate skip (the job: update)" in err
    assert await bulkio("import", str(changed), *job, "--concurrency", "8") == 0
    stored = leads(sandbox)
    assert len(stored) == ROWS and all(str(lead["companyName"]).startswith("New Co")
                                       for lead in stored)


async def test_the_same_rules_given_again_are_welcome(sandbox: Sandbox, source: Path,
                                                      tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text('{"Fax": "phoneNumber"}')
    await stopped_after(sandbox, source, tmp_path, 40, mapping=str(mapping), strategy="single")
    job = ["--client", "acme-corp", "--job-dir", str(tmp_path / "job"), "--resume"]
    assert await bulkio("import", str(source), *job, "--mapping", str(mapping),
                        "--strategy", "single") == 0
    assert len(leads(sandbox)) == ROWS and all(lead.get("phoneNumber") for lead in leads(sandbox))


async def test_a_job_from_an_earlier_version_resumes_with_a_warning(
        sandbox: Sandbox, source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
        ) -> None:
    """A journal that recorded no rules (bulkio 0.1): resumed, and the user is told its
    options could not be checked."""
    await stopped_after(sandbox, source, tmp_path, 30)
    journal = ImportJournal(tmp_path / "job" / "journal.db")
    journal.db.execute("DELETE FROM meta WHERE key = 'rules'")
    journal.close()
    assert await bulkio("import", str(source), "--client", "acme-corp", "--job-dir",
                        str(tmp_path / "job"), "--resume", "--on-duplicate", "update") == 0
    assert "did not record its options" in capsys.readouterr().err
    assert len(leads(sandbox)) == ROWS


async def test_an_export_resumed_with_other_fields_is_refused_naming_them(
        make_sandbox: MakeSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An export stopped after three pages, resumed with other --fields: one line naming
    --fields and both values; nothing is written."""
    async with make_sandbox(clients=1, leads=2000) as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        out, job = tmp_path / "leads.ndjson", tmp_path / "export-job"
        await cancel_when(sb, export_leads(out, settings=settings_for(sb, concurrency=1),
                                           page_size=100, fields=("email", "firstName"),
                                           job_dir=job), event="GET /api/enrich-leads/list", count=3)
        part = out.with_name(out.name + ".part")
        written = part.read_bytes()
        code = await anyio.to_thread.run_sync(main, [
            "export", "--out", str(out), "--fields", "email,companyName", "--page-size", "100",
            "--job-dir", str(job), "--resume"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1, err
        assert "--fields email,companyName (the job: email,firstName)" in err[0]
        assert part.read_bytes() == written


async def test_a_purge_resumed_without_delete_client_still_deletes_it(
        make_sandbox: MakeSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A purge begun with --delete-client and resumed without it runs under its own rule: the
    client record goes once it is empty."""
    async with make_sandbox(clients=1, leads=600, latency_ms=(5, 10)) as sb:
        for name, value in sandbox_env(sb).items():
            monkeypatch.setenv(name, value)
        job = tmp_path / "purge-job"
        await cancel_when(sb, purge_client("acme-corp", settings=settings_for(sb, concurrency=1),
                                           delete_client=True, job_dir=job),
                          event="DELETE /api/leads", count=2)
        assert sb.state.store.find_client(sb.company_id, "acme-corp")
        code = await anyio.to_thread.run_sync(main, [
            "purge", "--client", "acme-corp", "--yes", "--job-dir", str(job), "--resume"])
        assert code == 0
        assert sb.state.store.find_client(sb.company_id, "acme-corp") is None


async def test_a_processing_resumed_with_overwrite_is_refused_naming_it(
        make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    """Processing stopped mid-way, resumed with --overwrite (a second run for leads already
    processed): refused, naming --overwrite and both values."""
    from bulkio.api import make_spec, process_leads
    from bulkio.errors import ConfigError

    async with make_sandbox(clients=1, leads=300, processing_settings=True,
                            run_seconds=(0.05, 0.1), latency_ms=(2, 5)) as sb:
        job = tmp_path / "process-job"
        await cancel_when(sb, process_leads(make_spec("enrich", ["enrichment1"], client="acme-corp"),
                                            settings=settings_for(sb, concurrency=1), job_dir=job),
                          event="trigger:enrich", count=20)
        with pytest.raises(ConfigError, match=r"--overwrite true \(the job: false\)"):
            await process_leads(make_spec("enrich", ["enrichment1"], client="acme-corp",
                                          overwrite=True),
                                settings=settings_for(sb), job_dir=job, resume=True)
