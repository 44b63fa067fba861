"""Benchmark 2, quota-utilisation: how much of a quota bulkio really uses, and its 429s.

A quota measurable within a minute (6,000 a minute; 1,200 in quick mode) and latency spread
over 50-2,000 ms, for longer than the quota's 60-second window (a shorter run never fills it).
bulkio runs in process so its send rate can be sampled; a naive contender (asyncio.gather
under a semaphore, no limiter) shows the 429 storm bulkio avoids.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import orjson

from bulkio.api import import_leads
from bulkio.models import ImportProgress

from .common import sandbox, settings_for, write_csv

NAME = "quota-utilisation"
WARM_UP = 3.0  # seconds of the importing phase left out of the steady window


async def bulkio_run(info: dict[str, str], rows: Path, job: Path, quota: int,
                     seconds: float) -> dict[str, Any]:
    samples: list[tuple[float, int, int]] = []

    def on_progress(p: ImportProgress) -> None:
        if p.phase == "importing":
            samples.append((time.perf_counter(), p.requests, p.rate_limited))

    with anyio.move_on_after(seconds):
        await import_leads(rows, client="acme-corp", settle_s=0.0, job_dir=job,
                           settings=settings_for(info, rate_per_minute=quota),
                           on_progress=on_progress)
    # The steady window: from WARM_UP seconds into the importing phase to the end.
    start = next(s for s in samples if s[0] >= samples[0][0] + WARM_UP)
    (t0, r0, _), (t1, r1, limited) = start, samples[-1]
    per_second = (r1 - r0) / (t1 - t0)
    return {"requests_per_s": per_second, "utilisation": per_second / (quota / 60),
            "requests": r1, "rate_limited": limited}


async def naive_run(info: dict[str, str], quota: int, seconds: float,
                    concurrency: int) -> dict[str, Any]:
    """What a hand-rolled script does: as many POSTs at once as a semaphore allows (the same
    concurrency bulkio uses at this quota)."""
    headers = {"Authorization": f"Bearer {info['token']}", "Content-Type": "application/json"}
    accepted = limited = 0
    semaphore = asyncio.Semaphore(concurrency)
    deadline = time.perf_counter() + seconds
    # aiohttp's default connector caps a session at 100 connections: lift it to the semaphore's.
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        async def one(i: int) -> None:
            nonlocal accepted, limited
            async with semaphore:
                if time.perf_counter() > deadline:
                    return
                body = orjson.dumps({"client_id": "acme-corp", "firstName": "N", "lastName": "V",
                                     "email": f"naive{i}@example.com"})
                async with session.post(info["base_url"] + "/api/leads", data=body) as resp:
                    await resp.read()
                    accepted += resp.status == 201
                    limited += resp.status == 429
        await asyncio.gather(*(one(i) for i in range(int(concurrency * seconds * 2))))
    return {"accepted_per_s": accepted / seconds, "utilisation": accepted / seconds / (quota / 60),
            "requests": accepted + limited, "rate_limited": limited}


def run(quick: bool) -> dict[str, Any]:
    quota, seconds = (1200, 15) if quick else (6000, 90)
    knobs = ("--quota", str(quota), "--latency-ms", "50-2000", "--clients", "1")
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-") as tmp:
        rows = write_csv(Path(tmp) / "leads.csv", int(quota / 60 * seconds * 1.5))
        with sandbox(*knobs) as sb:
            bulkio = asyncio.run(bulkio_run(sb.info, rows, Path(tmp) / "job", quota, seconds))
        with sandbox(*knobs) as sb:
            concurrency = settings_for(sb.info, rate_per_minute=quota).effective_concurrency
            naive = asyncio.run(naive_run(sb.info, quota, seconds, concurrency))
    return {"quick": quick, "quota_per_min": quota, "latency_ms": "50-2000", "seconds": seconds,
            "concurrency": concurrency,
            "bulkio": bulkio, "naive": naive}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    b, n = f["bulkio"], f["naive"]
    return [
        ("quota", f"{f['quota_per_min']:,} a minute, latency {f['latency_ms']} ms, {f['seconds']} s"),
        ("bulkio: requests a second / quota (goal >= 0.97)",
         f"{b['requests_per_s']:.1f} / {f['quota_per_min'] / 60:.0f} = {b['utilisation']:.3f}"),
        ("bulkio: 429s per 1,000 requests (goal <= 1)",
         f"{b['rate_limited']} in {b['requests']:,} = "
         f"{1000 * b['rate_limited'] / max(b['requests'], 1):.2f}"),
        ("naive gather: accepted a second (a fresh window lets a minute's quota through at once)",
         f"{n['accepted_per_s']:.1f}"),
        (f"naive gather at the same concurrency ({f['concurrency']}): 429s",
         f"{n['rate_limited']:,} of {n['requests']:,} requests"),
    ]
