"""Benchmark 12, campaign: `bulkio campaign upload` against the loop people write around the
legacy enrichment API's documented example (benchmarks/baselines/campaign_loop.py), each
against a fresh sandbox with the legacy API's quota scaled up to 250 requests a minute and
300 ms of latency on every request.

- Records a minute while uploading (from the first stored record to the last, read from the
  sandbox's own table), against what the quota allows (requests a minute x 200). Goal: bulkio
  at >= 0.97.
- With 5% of the upload answers lost after the work: the allowance spent (records the
  campaign holds) against the records of the file. Goal: bulkio spends exactly the records
  (nothing enriched twice); the loop, which sends a failed request again, spends more.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import sandbox, write_csv

NAME = "campaign"
LOOP = Path(__file__).parent / "baselines" / "campaign_loop.py"
QUOTA = 250  # requests a minute: the documented 50, scaled up to keep the run short
LOST = 0.05
LATENCY_MS = 300  # on every request: an upload of 200 records is not instant


def stored(db: Path, slug: str) -> tuple[int, float, float]:
    """(records, first created, last created) of a campaign, from the sandbox's file."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        count, first, last = conn.execute("SELECT count(*), min(created), max(created) FROM "
                                          "lg_records WHERE slug = ?", (slug,)).fetchone()
    return int(count), float(first or 0), float(last or 0)


def contender(name: str, info: dict[str, str], source: Path, tmp: Path) -> list[str]:
    if name == "loop":
        return [sys.executable, str(LOOP), info["base_url"], info["legacy_api_key"], name,
                str(source), str(QUOTA)]
    return [sys.executable, "-m", "bulkio", "campaign", "upload", str(source), "--campaign",
            name, "--type", "datahub", "--fields", "org_industry", "--legacy-rate", str(QUOTA),
            "--quiet", "--job-dir", str(tmp / f"job-{name}-{time.monotonic_ns()}")]


def one_run(name: str, records: int, tmp: Path, *knobs: str) -> dict[str, Any]:
    source = write_csv(tmp / "records.csv", records)
    db = tmp / f"{name}-{time.monotonic_ns()}.db"
    with sandbox("--legacy-campaigns", "--legacy-rate", str(QUOTA), "--db", str(db),
                 "--latency-ms", str(LATENCY_MS), *knobs) as sb:
        env = {"LEADGENIUS_LEGACY_API_KEY": sb.info["legacy_api_key"],
               "LEADGENIUS_LEGACY_BASE_URL": sb.info["base_url"], "PATH": "/usr/bin:/bin",
               "BULKIO_STATE_DIR": str(tmp / "state"), "HOME": str(tmp)}
        start = time.perf_counter()
        done = subprocess.run(contender(name, sb.info, source, tmp), env=env, check=False,
                              capture_output=True)
        elapsed = time.perf_counter() - start
        count, first, last = stored(db, name)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{name}: exit {done.returncode}: {done.stderr.decode()[-500:]}")
    per_min = (count - 200) / (last - first) * 60 if last > first else 0.0
    return {"records_in_campaign": count, "records_per_min": per_min,
            "share_of_quota": per_min / (QUOTA * 200), "elapsed_s": elapsed}


def run(quick: bool) -> dict[str, Any]:
    records = 2_000 if quick else 20_000
    figures: dict[str, Any] = {"quick": quick, "quota_per_min": QUOTA, "records": records,
                               "lost_answers": LOST, "latency_ms": LATENCY_MS}
    chaos = ("--lost-response-rate", str(LOST), "--chaos-only", "/api/v1/enrichment/upload/",
             "--chaos-seed", "12")
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-campaign-") as folder:
        tmp = Path(folder)
        for name in ("loop", "bulkio"):
            for label, knobs in (("clean", ()), ("lost", chaos)):
                for key, value in one_run(name, records, tmp, *knobs).items():
                    figures[f"{name}_{label}_{key}"] = value
    for name in ("loop", "bulkio"):
        figures[f"{name}_re_enriched"] = figures[f"{name}_lost_records_in_campaign"] - records
    figures["ratio"] = (figures["bulkio_clean_records_per_min"]
                        / max(figures["loop_clean_records_per_min"], 1e-9))
    return figures


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"{f['records']:,} records at {f['quota_per_min']} requests a minute, "
         f"{f['latency_ms']} ms latency: loop / bulkio, records a minute",
         f"{f['loop_clean_records_per_min']:,.0f} / {f['bulkio_clean_records_per_min']:,.0f} "
         f"(x{f['ratio']:.1f})"),
        ("bulkio's share of quota x 200 (goal >= 0.97)",
         f"{f['bulkio_clean_share_of_quota']:.3f}"),
        (f"{f['lost_answers']:.0%} answers lost: allowance spent, loop / bulkio "
         f"(goal: bulkio = {f['records']:,})",
         f"{f['loop_lost_records_in_campaign']:,} / {f['bulkio_lost_records_in_campaign']:,}"),
        ("records enriched twice, loop / bulkio (goal: bulkio 0)",
         f"{f['loop_re_enriched']:,} / {f['bulkio_re_enriched']:,}"),
        ("with lost answers: bulkio's share of quota x 200, whole run in s",
         f"{f['bulkio_lost_share_of_quota']:.3f}, {f['bulkio_lost_elapsed_s']:,.0f} s"),
    ]
