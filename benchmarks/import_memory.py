"""Benchmark 6, memory: a large CSV imported with the quota off, by a real `bulkio import`
process whose peak RSS is read from the kernel (wait4, through benchmarks.peak_rss), not
guessed."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import bulkio_env, sandbox, write_csv
from .peak_rss import run_measured

NAME = "memory"


def run(quick: bool) -> dict[str, Any]:
    count = 20_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-") as tmp:
        source = write_csv(Path(tmp) / "big.csv", count)
        # The sandbox keeps its data in a file so that it, not bulkio, is what grows on disk.
        with sandbox("--quota", "unlimited", "--clients", "1", "--db",
                     str(Path(tmp) / "sandbox.db")) as sb:
            start = time.perf_counter()
            code, peak_mb = run_measured(
                [sys.executable, "-m", "bulkio", "import", str(source), "--client", "acme-corp",
                 "--rate", "unlimited", "--quiet", "--settle", "0",
                 "--job-dir", str(Path(tmp) / "job")],
                bulkio_env(sb.info, Path(tmp) / "auth.json"))
            elapsed = time.perf_counter() - start
    return {"quick": quick, "rows": count, "exit_code": code, "elapsed_s": elapsed,
            "rows_per_s": count / elapsed, "peak_rss_mb": peak_mb}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"import of a {f['rows']:,}-row CSV, quota off", f"exit {f['exit_code']}"),
            ("peak RSS of the bulkio process (goal well under 200 MB)", f"{f['peak_rss_mb']:,.0f} MB"),
            ("rows a second", f"{f['rows_per_s']:,.0f}"),
            ("elapsed", f"{f['elapsed_s']:,.1f} s")]
