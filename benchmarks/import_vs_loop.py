"""Benchmark 1, import-vs-loop: the documented one-lead-at-a-time loop against `bulkio import`.

Same rows, same sandbox configuration (premium quota, a fixed latency), each contender with a
fresh sandbox (the quota is per identity: one contender's minute must not throttle the
other's). Each is measured the same way: leads stored on the server, counted in the sandbox's
database after a warm-up and again `seconds` later (start-up excluded for both).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import bulkio_env, sandbox, steady_rate, write_csv

NAME = "import-vs-loop"
DOCUMENTED_LOOP = Path(__file__).parent / "baselines" / "documented_loop.py"


def run(quick: bool) -> dict[str, Any]:
    seconds = 6 if quick else 60
    warm_up = 3.0 if quick else 6.0
    latencies = (300,) if quick else (50, 300, 1000)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-") as tmp:
        rows = write_csv(Path(tmp) / "leads.csv", 3000)
        for latency in latencies:
            figures: dict[str, Any] = {"latency_ms": latency, "seconds": seconds}
            for name, argv in (
                ("loop", lambda info: [sys.executable, str(DOCUMENTED_LOOP), info["base_url"],
                                       info["email"], info["password"], "acme-corp", str(rows)]),
                ("bulkio", lambda info, job=f"job-{latency}": [
                    sys.executable, "-m", "bulkio", "import", str(rows),
                    "--client", "acme-corp", "--tier", "premium", "--quiet",
                    "--job-dir", str(Path(tmp) / job)]),
            ):
                db = Path(tmp) / f"sandbox-{latency}-{name}.db"  # a fresh database each
                with sandbox("--quota", "premium", "--latency-ms", str(latency), "--clients",
                             "1", "--db", str(db)) as sb:
                    figures[f"{name}_leads_per_min"], figures[f"{name}_series"] = steady_rate(
                        argv(sb.info), bulkio_env(sb.info, Path(tmp) / "auth.json"), db,
                        "acme-corp", warm_up, seconds)
            figures["ratio"] = figures["bulkio_leads_per_min"] / max(figures["loop_leads_per_min"], 1e-9)
            results.append(figures)
    return {"quick": quick, "quota_per_min": 1000, "runs": results}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for r in f["runs"]:
        out.append((f"{r['latency_ms']} ms latency: the documented loop / bulkio, leads a minute",
                    f"{r['loop_leads_per_min']:,.0f} / {r['bulkio_leads_per_min']:,.0f} "
                    f"(x{r['ratio']:.1f})"))
    return out
