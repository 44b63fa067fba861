"""Benchmark 3, engine-ceiling: quota off, no latency: how close bulkio comes to a minimal
aiohttp loop posting the same payloads at the same concurrency (alternating rounds, best of
each, against one sandbox)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bulkio.api import import_leads

from .common import post_rate, sandbox, settings_for, write_csv

NAME = "engine-ceiling"
CONCURRENCY = 64


def payloads(rows: int, slug: str, prefix: str) -> list[bytes]:
    return [orjson.dumps({"client_id": slug, "firstName": "Ada", "lastName": "Lovelace",
                          "email": f"{prefix}{i}@example.com", "companyName": "Analytical Engines",
                          "title": "Engineer"}) for i in range(rows)]


def run(quick: bool) -> dict[str, Any]:
    count = 8_000 if quick else 100_000
    rounds = 1 if quick else 2
    best = {"bulkio_rows_per_s": 0.0, "raw_posts_per_s": 0.0}
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-") as tmp, \
            sandbox("--quota", "unlimited", "--clients", str(2 * rounds)) as sb:
        info = sb.info
        slugs = ["acme-corp", "historic-leads", "northwind-traders", "contoso"]
        settings = settings_for(info, rate_per_minute=None, concurrency=CONCURRENCY)
        headers = {"Authorization": f"Bearer {info['token']}", "Content-Type": "application/json"}
        for r in range(rounds):
            body = payloads(count, slugs[2 * r + 1], f"raw{r}-")
            best["raw_posts_per_s"] = max(best["raw_posts_per_s"], asyncio.run(
                post_rate(info["base_url"] + "/api/leads", headers, body, CONCURRENCY)))
            del body
            source = write_csv(Path(tmp) / f"rows{r}.csv", count, f"bulkio{r}-")
            start = time.perf_counter()
            report = asyncio.run(import_leads(source, client=slugs[2 * r], settings=settings,
                                              settle_s=0.0, job_dir=Path(tmp) / f"job{r}"))
            assert report.created == count, report
            best["bulkio_rows_per_s"] = max(best["bulkio_rows_per_s"],
                                            count / (time.perf_counter() - start))
    return {"quick": quick, "rows": count, "concurrency": CONCURRENCY, **best,
            "ratio": best["bulkio_rows_per_s"] / best["raw_posts_per_s"]}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    return [(f"{f['rows']:,} rows at concurrency {f['concurrency']}, quota off", ""),
            ("raw aiohttp loop, POSTs a second", f"{f['raw_posts_per_s']:,.0f}"),
            ("bulkio import, rows a second (journal, dedupe, verify included)",
             f"{f['bulkio_rows_per_s']:,.0f}"),
            ("ratio (goal >= 0.8)", f"{f['ratio']:.2f}")]
