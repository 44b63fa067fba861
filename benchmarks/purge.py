"""Benchmark 5, purge: empty a 10,000-lead client (1,000 in quick mode).

The standard quota scaled down in time (6,000 a minute instead of 100, so a minute's work
takes a second) with 50-150 ms of latency, a fresh sandbox for each contender:
- `bulkio purge --yes` (a real process): ids listed, deleted 50 a request, listed again;
- one DELETE per lead, paced by the same quota limiter, 16 at a time (what a script without
  the batch endpoint does).
Figures: requests used and time taken, and their ratios; both checked in the sandbox's
database to have emptied the client.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bulkio.http.quota import Quota

from .common import bulkio_env, sandbox, stored_leads

NAME = "purge"
QUOTA = 6000
CONCURRENCY = 16


async def one_delete_per_lead(info: dict[str, str]) -> int:
    """List the client's ids, then DELETE each; the number of requests sent."""
    quota = Quota(QUOTA)
    base = info["base_url"]
    bearer = {"Authorization": f"Bearer {info['token']}"}
    api_key = {"x-api-key": info["api_key"], "x-user-id": info["user_id"]}
    requests = 0
    async with aiohttp.ClientSession() as session:
        ids: list[str] = []
        params = {"companyId": info["company_id"], "clientId": "acme-corp", "limit": "5000",
                  "fields": "id"}
        while True:
            await quota.acquire()
            requests += 1
            async with session.get(base + "/api/enrich-leads/list", params=params,
                                   headers=api_key) as resp:
                page = orjson.loads(await resp.read())
            ids += [item["id"] for item in page["items"]]
            if not page.get("nextToken"):
                break
            params["nextToken"] = page["nextToken"]
        pending = iter(ids)

        async def worker() -> None:
            nonlocal requests
            for lead_id in pending:
                await quota.acquire()
                requests += 1
                async with session.delete(base + "/api/leads", params={"id": lead_id},
                                          headers=bearer) as resp:
                    await resp.read()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return requests


def run(quick: bool) -> dict[str, Any]:
    leads = 1000 if quick else 10_000
    knobs = ("--quota", str(QUOTA), "--latency-ms", "50-150", "--clients", "1",
             "--leads", str(leads))
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-") as folder:
        tmp = Path(folder)
        with sandbox(*knobs, "--db", str(tmp / "a.db")) as sb:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "bulkio", "purge", "--client", "acme-corp",
                            "--yes", "--quiet", "--rate", str(QUOTA), "--job-dir",
                            str(tmp / "job"), "--report", str(tmp / "report.json")],
                           env=bulkio_env(sb.info, tmp / "auth.json"), check=True)
            bulkio_s = time.perf_counter() - start
            report = orjson.loads((tmp / "report.json").read_bytes())
            bulkio_left = stored_leads(tmp / "a.db", "acme-corp")
        with sandbox(*knobs, "--db", str(tmp / "b.db")) as sb:
            start = time.perf_counter()
            naive_requests = asyncio.run(one_delete_per_lead(sb.info))
            naive_s = time.perf_counter() - start
            naive_left = stored_leads(tmp / "b.db", "acme-corp")
    return {"quick": quick, "leads": leads, "quota_per_min": QUOTA, "latency_ms": "50-150",
            "bulkio": {"requests": report["requests"], "seconds": bulkio_s,
                       "rounds": report["rounds"], "left": bulkio_left},
            "one_per_lead": {"requests": naive_requests, "seconds": naive_s, "left": naive_left},
            "requests_ratio": naive_requests / report["requests"],
            "time_ratio": naive_s / bulkio_s}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    b, n = f["bulkio"], f["one_per_lead"]
    return [
        ("client", f"{f['leads']:,} leads, quota {f['quota_per_min']:,}/min, "
                   f"latency {f['latency_ms']} ms"),
        ("bulkio purge: requests, time, rounds",
         f"{b['requests']:,} in {b['seconds']:,.1f} s, {b['rounds']} rounds, {b['left']} left"),
        ("one DELETE per lead: requests, time",
         f"{n['requests']:,} in {n['seconds']:,.1f} s, {n['left']} left"),
        ("requests ratio (one per lead / bulkio)", f"x{f['requests_ratio']:.1f}"),
        ("time ratio (one per lead / bulkio)", f"x{f['time_ratio']:.1f}"),
    ]
