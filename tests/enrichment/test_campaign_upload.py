"""`bulkio campaign upload` against the legacy twin, as real processes: every record in the
campaign exactly once (checked in the twin's own table) through lost answers, errors, dropped
connections, a quota, kill -9 and Ctrl-C then --resume; the allowance checked before sending;
every row that is not uploaded in the rejects file with its reason; the key in no output."""

from __future__ import annotations

import signal
import sys
from collections import Counter
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import anyio
import orjson
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from tests.enrichment.test_campaign_status import env_for
from tests.processes import stop_after

pytestmark = pytest.mark.slow  # real processes, read-backs that wait for --settle
UPLOAD = "POST /api/v1/enrichment/upload/"
ROWS = 1_000


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, legacy_campaigns=True, legacy_rate=None,
                         lost_response_rate=0.25, error_rate=0.1, drop_rate=0.05,
                         chaos_only=("/api/v1/enrichment/upload/",), chaos_seed=11,
                         legacy_store_lag_s=(0.0, 0.8))


def messy_csv(path: Path, rows: int = ROWS) -> Path:
    """Leads, contacts and accounts; every 50th row without an identifier; a formula, a
    column the API does not take and one it has no field for."""
    lines = ["First Name,Last Name,Email,Company,Website,Title,contact_shoe_size,Notes"]
    for i in range(rows):
        if i % 50 == 7:
            lines.append(f"Nobody {i},,,,,,,")
        elif i % 3 == 0:
            lines.append(f"F{i},L{i},p{i}@ex{i % 30}.com,,,CEO,,")  # a contact
        elif i % 3 == 1:
            lines.append(f",,,Co {i},co{i}.example,,,n")  # an account
        else:
            lines.append(f"F{i},L{i},p{i}@ex{i % 30}.com,Co {i},co{i}.example,=1+1,,")  # a lead
    lines[101] = "Shoe,Fan,shoe@ex.com,,,,44,"  # a value in a field the API does not take
    path.write_text("\n".join(lines) + "\n")
    return path


def campaign_records(sb: Sandbox, slug: str) -> list[dict[str, Any]]:
    return [orjson.loads(d) for (d,) in sb.state.store.db.execute(
        "SELECT data FROM lg_records WHERE slug = ? ORDER BY id", (slug,))]


def record_key(data: dict[str, Any]) -> str:
    return str(data.get("contact_record_id") or data.get("org_record_id"))


def upload(sb: Sandbox, source: Path | str, job: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "bulkio", "campaign", "upload", str(source), "--campaign",
            "spring", "--type", "datahub", "--fields", "org_industry,contact_seniority",
            "--settle", "1", "--job-dir", str(job), "--legacy-rate", "3000", "--quiet", *extra]


async def run(sb: Sandbox, argv: list[str], cwd: Path) -> CompletedProcess[bytes]:
    with anyio.fail_after(120):
        return await anyio.run_process(argv, env=env_for(sb), check=False, cwd=cwd)


def assert_each_once(sb: Sandbox, expected: int) -> list[dict[str, Any]]:
    records = campaign_records(sb, "spring")
    counts = Counter(map(record_key, records))
    assert [k for k, n in counts.items() if n > 1] == []
    assert len(records) == expected
    return records


@pytest.mark.parametrize("gaps", [1, 60], ids=["ids one by one", "ids with gaps"])
async def test_a_messy_file_every_record_once_through_lost_answers(
        sandbox: Sandbox, tmp_path: Path, gaps: int) -> None:
    """Lost answers are looked up by id where the ids between are few, by pages where ids
    have gaps (shared with others' records): the same records found either way."""
    sandbox.config.legacy_id_gaps = gaps
    source = messy_csv(tmp_path / "people.csv")
    job = tmp_path / "job"
    done = await run(sandbox, upload(sandbox, source, job, "--batch-size", "50"), tmp_path)
    assert done.returncode == 1, done.stderr.decode()  # rows rejected: something to look at
    report = orjson.loads((job / "report.json").read_bytes())
    rejected = 20 + 1  # no identifier; the shoe size
    assert (report["rows_read"], report["rejected"], report["failed"]) == (ROWS, rejected, 0)
    assert report["accepted"] == report["records"] == ROWS - rejected
    lost = sum(v for k, v in sandbox.state.counts.items() if k.startswith("lost:"))
    assert lost > 0 and report["recovered"] > 0  # answers were lost and their records found
    records = assert_each_once(sandbox, ROWS - rejected)
    # the allowance spent is the records: nothing uploaded twice, nothing paid twice
    assert sandbox.state.store.db.execute("SELECT count(*) FROM lg_records").fetchone()[0] \
        == report["accepted"]
    lead = next(r for r in records if r.get("contact_email") == "p2@ex2.com")
    assert lead["org_company_name"] == "Co 2" and lead["contact_job_title"] == "=1+1"
    assert lead["contact_record_id"].endswith("-3")  # the job's tag and the row's number
    account = next(r for r in records if r.get("org_website") == "co1.example")
    assert account["org_record_id"].endswith("-2") and "contact_record_id" not in account
    rejects = (job / "rejects.csv").read_text().splitlines()
    assert rejects[0] == "_row,_error," + ",".join(source.read_text().splitlines()[0].split(","))
    assert len(rejects) == 1 + rejected
    assert any("contact_shoe_size is not a field" in line and "--allow-field" in line
               for line in rejects)
    assert any(line.startswith("8,a contact needs contact_last_name or contact_email")
               for line in rejects)
    status = await run(sandbox, [sys.executable, "-m", "bulkio", "campaign", "status", "spring",
                                 "--json"], tmp_path)  # from the campaign's counts: 2 requests
    counts = orjson.loads(status.stdout)["campaign"]
    assert counts["uploaded_here"] == report["accepted"] and counts["finalized_here_is_current"]
    for path in [*job.rglob("*"), source.parent / "people.csv"]:
        if path.is_file():
            assert sandbox.legacy_api_key.encode() not in path.read_bytes()
    assert sandbox.legacy_api_key not in done.stdout.decode() + done.stderr.decode()


@pytest.mark.parametrize(("sig", "gaps"), [(signal.SIGKILL, 1), (signal.SIGINT, 1),
                                           (signal.SIGKILL, 60)],
                         ids=["SIGKILL", "SIGINT", "SIGKILL, ids with gaps"])
async def test_stopped_mid_upload_then_resumed_uploads_nothing_twice(
        sandbox: Sandbox, tmp_path: Path, sig: int, gaps: int) -> None:
    sandbox.config.legacy_id_gaps = gaps
    source = messy_csv(tmp_path / "people.csv", 3_000)
    job = tmp_path / "job"
    argv = upload(sandbox, source, job, "--batch-size", "50")
    code, err = await stop_after(sandbox, argv, env_for(sandbox), event=UPLOAD, count=12,
                                 sig=sig)
    if sig == signal.SIGKILL:
        assert code == -signal.SIGKILL
    else:
        assert code == 130 and b"--resume" in err and b"Traceback" not in err
    before = len(campaign_records(sandbox, "spring"))
    assert 0 < before < 2_900
    done = await run(sandbox, [*argv, "--resume"], tmp_path)
    assert done.returncode == 1, done.stderr.decode()  # the rejected rows
    report = orjson.loads((job / "report.json").read_bytes())
    assert report["status"] == "finished"
    assert_each_once(sandbox, report["records"])
    assert report["accepted"] == report["records"] == 3_000 - 60 - 1


async def test_a_tight_quota_is_kept_without_a_storm_of_429s(
        make_sandbox: Any, tmp_path: Path) -> None:
    """The twin's quota at 120 a minute, the client told 120: paced, not refused."""
    async with make_sandbox(legacy_campaigns=True, legacy_rate=120) as sb:
        source = messy_csv(tmp_path / "people.csv", 2_000)
        argv = upload(sb, source, tmp_path / "job", "--batch-size", "100")
        argv[argv.index("--legacy-rate") + 1] = "120"
        done = await run(sb, argv, tmp_path)
        assert done.returncode == 1, done.stderr.decode()
        report = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
        assert report["accepted"] == 2_000 - 40 - 1 and report["rate_limited"] <= 1
        assert_each_once(sb, report["accepted"])


async def test_two_processes_on_one_key_share_its_quota(make_sandbox: Any,
                                                        tmp_path: Path) -> None:
    """Two uploads at once on one key, each told the whole quota (20 a 2-second window here,
    600 a minute): together they ask twice what the key allows; the 429s they get pause each
    process for the Retry-After the API gives, without a storm, and both campaigns hold
    every record once."""
    async with make_sandbox(legacy_campaigns=True, legacy_rate=20, legacy_window_s=2.0) as sb:
        argvs = []
        for slug in ("spring", "autumn"):
            source = tmp_path / f"{slug}.csv"
            source.write_text("First Name,Last Name,Email\n" + "".join(
                f"F{i},{slug}{i},{slug}.{i}@ex.com\n" for i in range(300)))
            argv = upload(sb, source, tmp_path / slug, "--batch-size", "10", "--report",
                          str(tmp_path / f"{slug}.json"))
            argv[argv.index("--campaign") + 1] = slug
            argv[argv.index("--legacy-rate") + 1] = "600"
            argvs.append(argv)
        results: list[CompletedProcess[bytes]] = []

        async def one(argv: list[str]) -> None:
            results.append(await run(sb, argv, tmp_path))

        async with anyio.create_task_group() as tg:
            for argv in argvs:
                tg.start_soon(one, argv)
        assert [r.returncode for r in results] == [0, 0], [r.stderr.decode() for r in results]
        reports = [orjson.loads((tmp_path / f"{s}.json").read_bytes()) for s in ("spring",
                                                                              "autumn")]
        for slug, report in zip(("spring", "autumn"), reports, strict=True):
            records = campaign_records(sb, slug)
            assert len(records) == len({record_key(r) for r in records}) == 300
            assert report["accepted"] == 300 and report["upload_requests"] == 30
        limited = sum(r["rate_limited"] for r in reports)
        requests = sum(r["requests"] for r in reports)
        assert 0 < limited <= requests // 4, (limited, requests)  # 5 or 6 of 70 when run


async def test_more_records_than_the_allowance_left(make_sandbox: Any, tmp_path: Path) -> None:
    async with make_sandbox(legacy_campaigns=True, legacy_rate=None, legacy_allowance=300) as sb:
        source = messy_csv(tmp_path / "people.csv", 500)
        job = tmp_path / "job"
        done = await run(sb, upload(sb, source, job), tmp_path)
        said = done.stderr.decode()
        assert done.returncode == 2 and said.count("\n") == 1, said
        assert "489 records to upload, but this period's allowance has 300 left" in said
        assert "--up-to-remaining" in said
        assert sb.state.counts[UPLOAD] == 0 and not job.exists()  # nothing sent, nothing kept
        done = await run(sb, upload(sb, source, job, "--up-to-remaining"), tmp_path)
        assert done.returncode == 1, done.stderr.decode()
        report = orjson.loads((job / "report.json").read_bytes())
        assert (report["accepted"], report["held"]) == (300, 189)
        records = assert_each_once(sb, 300)
        assert record_key(records[-1]).endswith("-307")  # the first 300 records, in file order
        held = [line for line in (job / "rejects.csv").read_text().splitlines()
                if "held back: this period's allowance had 300 records left" in line]
        assert len(held) == 189


async def test_a_clients_leads_keyed_by_their_ids(make_sandbox: Any, tmp_path: Path) -> None:
    async with make_sandbox(legacy_campaigns=True, legacy_rate=None, clients=1, leads=450,
                            lost_response_rate=0.3, chaos_seed=3,
                            chaos_only=("/api/v1/enrichment/upload/",)) as sb:
        env = env_for(sb)
        env.update(LEADGENIUS_API_KEY=sb.api_key, LEADGENIUS_USER_ID=sb.user_id,
                   LEADGENIUS_EMAIL=sb.email, LEADGENIUS_PASSWORD=sb.password,
                   LEADGENIUS_BASE_URL=sb.base_url, LEADGENIUS_AUTH_FILE=str(tmp_path / "a"))
        argv = upload(sb, "client:acme-corp", tmp_path / "job")
        with anyio.fail_after(120):
            done = await anyio.run_process(argv, env=env, check=False, cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr.decode()
        leads = {lead_id: orjson.loads(data) for lead_id, data in sb.state.store.db.execute(
            "SELECT id, data FROM leads")}
        report = orjson.loads((tmp_path / "job" / "report.json").read_bytes())
        assert report["rows_read"] == len(leads) and report["recovered"] > 0
        records = assert_each_once(sb, len(leads) - report["rejected"])
        for record in records:
            lead = leads[record["contact_record_id"]]
            assert record.get("contact_email") == (lead.get("email") or None)
            assert record.get("org_company_name") == (lead.get("companyName") or None)


async def test_duplicate_record_ids_and_a_changed_type_on_resume(
        sandbox: Sandbox, tmp_path: Path) -> None:
    source = tmp_path / "crm.csv"
    source.write_text("contact_record_id,contact_email\nA1,a@x.org\nA2,b@x.org\nA1,c@x.org\n")
    job = tmp_path / "job"
    sandbox.config.lost_response_rate = sandbox.config.error_rate = 0.0
    sandbox.config.drop_rate = 0.0
    argv = upload(sandbox, source, job)
    argv[argv.index("--type") + 1] = "foo"  # a type the API does not know: its words, shown
    done = await run(sandbox, argv, tmp_path)
    said = done.stderr.decode()
    assert done.returncode == 2 and '"foo" is not a valid choice.' in said, said
    assert not job.exists()  # nothing stored: nothing to resume, the right type just runs
    done = await run(sandbox, upload(sandbox, source, job), tmp_path)
    assert done.returncode == 1
    assert sorted(map(record_key, campaign_records(sandbox, "spring"))) == ["A1", "A2"]
    rejects = (job / "rejects.csv").read_text()
    assert "its record id 'A1' is also row 1's: each must be unique" in rejects
    argv = upload(sandbox, source, job, "--resume")
    argv[argv.index("--type") + 1] = "enrichment"
    done = await run(sandbox, argv, tmp_path)
    said = done.stderr.decode()
    assert done.returncode == 2 and "--type enrichment (the job: datahub)" in said, said
