"""Benchmark 10, batch-strategy: `bulkio import --strategy single|batch|auto` side by side, for
a batch path that stores every lead it is sent, half of them, or none.

20,000 rows (2,000 quick) at Premium scaled in time: the quota is 5x Premium (5,000 a
minute, so a Premium minute takes 12 s) and `--settle` is 6 s (the default 30 s, scaled);
latency 50-300 ms on every request, unscaled (so the fixed costs of a run, start-up, login,
listing the client, weigh a little more than at real speed). Each contender gets a fresh sandbox with
`--batch-persist P` (random subsets) and its own database. Figures, per contender:
- requests per lead: the requests bulkio's report counts (every attempt: listings, retries,
  deletes), over the leads created;
- leads a minute: leads created over the process's wall time, from its start to its
  verified end (listing, settle time and the final checks included), and its ratio to
  single's;
- on the server: emails missing and emails held more than once, read from the sandbox's own
  database (both must be 0).
Goals: at 1.0, batch <= 0.03 requests a lead and >= 30x single's leads a minute; at 0.0,
auto within 3% of single's requests; never a duplicate.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from .common import bulkio_env, sandbox, write_csv

NAME = "batch-strategy"
SCALE = 5
QUOTA = 1000 * SCALE
SETTLE_S = 30.0 / SCALE
STRATEGIES = ("single", "batch", "auto")
PERSISTENCE = (1.0, 0.5, 0.0)


def server_books(db: Path, expected: int) -> tuple[int, int]:
    """(emails missing, emails held more than once) in the client, read from the database."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        counts = [n for (n,) in conn.execute(
            "SELECT count(*) FROM leads WHERE client_id = 'acme-corp' "
            "GROUP BY lower(json_extract(data, '$.email'))")]
    return expected - len(counts), sum(1 for n in counts if n > 1)


def one_run(rows: Path, count: int, strategy: str, persist: float, tmp: Path) -> dict[str, Any]:
    db = tmp / f"{strategy}-{persist}.db"
    report_path = tmp / f"{strategy}-{persist}.json"
    with sandbox("--quota", str(QUOTA), "--latency-ms", "50-300", "--clients", "1",
                 "--batch-persist", str(persist), "--db", str(db)) as sb:
        argv = [sys.executable, "-m", "bulkio", "import", str(rows), "--client", "acme-corp",
                "--rate", str(QUOTA), "--settle", str(SETTLE_S), "--strategy", strategy,
                "--quiet", "--job-dir", str(tmp / f"job-{strategy}-{persist}"),
                "--report", str(report_path)]
        start = time.perf_counter()
        subprocess.run(argv, env=bulkio_env(sb.info, tmp / "auth.json"), check=True,
                       stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        missing, doubled = server_books(db, count)
    report = orjson.loads(report_path.read_bytes())
    return {"seconds": round(seconds, 2), "created": report["created"],
            "requests": report["requests"],
            "requests_per_lead": report["requests"] / max(report["created"], 1),
            "leads_per_min": report["created"] / seconds * 60,
            "batch_requests": report["batch_requests"],
            "batch_leads_persisted": report["batch_leads_persisted"],
            "resent_single": report["resent_single"],
            "duplicates_removed": report["duplicates_removed"],
            "missing_on_server": missing, "duplicates_on_server": doubled}


def run(quick: bool) -> dict[str, Any]:
    count = 2_000 if quick else 20_000
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-batch-") as folder:
        tmp = Path(folder)
        rows = write_csv(tmp / "leads.csv", count)
        for persist in PERSISTENCE:
            figures: dict[str, Any] = {"persist": persist}
            for strategy in STRATEGIES:
                figures[strategy] = one_run(rows, count, strategy, persist, tmp)
            single = figures["single"]
            for strategy in ("batch", "auto"):
                f = figures[strategy]
                f["speedup"] = f["leads_per_min"] / max(single["leads_per_min"], 1e-9)
                f["requests_vs_single"] = f["requests"] / max(single["requests"], 1)
            results.append(figures)
    return {"quick": quick, "rows": count, "scale": SCALE, "quota_per_min": QUOTA,
            "settle_s": SETTLE_S, "latency_ms": "50-300", "runs": results}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for r in f["runs"]:
        for strategy in STRATEGIES:
            c = r[strategy]
            extra = "" if strategy == "single" else (
                f" (x{c['speedup']:.1f} the leads a minute, {c['requests_vs_single']:.1%} of "
                "single's requests)")
            out.append((f"persist {r['persist']:.1f}, {strategy}: requests a lead / leads a "
                        "minute / missing, doubled on the server",
                        f"{c['requests_per_lead']:.4f} / {c['leads_per_min']:,.0f}{extra} / "
                        f"{c['missing_on_server']}, {c['duplicates_on_server']}"))
    return out
