"""Benchmark 11, process: `bulkio process enrich --wait` against the quota, side by side with a
hand-written tracker.

The sandbox runs in this process (so its own records say how many times each lead was
triggered), at 5x Premium (5,000 requests a minute) with 50-300 ms on every request; runs
take 5-30 s, as the issue sets them, unscaled. Contenders, each against a fresh sandbox:
- bulkio: `bulkio process enrich --services enrichment1 --wait` (a real process) over a
  client of 2,000 leads (500 quick);
- a hand-written tracker: the same triggers at the quota (aiolimiter, 16 at a time), then
  every run polled every 2 seconds until it is final, what a script built on the documented
  "trigger, then trigger-task-status" would do; over 500 leads (100 quick), since only its
  polls a run are compared.
Figures: requests a minute (triggers, status polls and reads together) over the quota while
bulkio triggers (from the sandbox's counters, sampled each second, between 10% and 90% of the
triggers), the triggers' share of them, duplicate triggers (leads triggered more than once),
status polls a run. Goals: >= 0.97 of the quota, 0 duplicates, <= 3 polls a run.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import orjson
from aiolimiter import AsyncLimiter

from bulkio.sandbox import Sandbox, SandboxConfig, run_sandbox

from .common import bulkio_env

NAME = "process"
QUOTA = 5000
RUN_SECONDS = (5.0, 30.0)
FINAL = ("COMPLETED", "FAILED", "CANCELED")


def config(leads: int) -> SandboxConfig:
    return SandboxConfig(quota_per_minute=QUOTA, latency_ms=(50, 300), clients=1,
                         leads=leads, processing_settings=True, run_seconds=RUN_SECONDS)


def requests_so_far(sb: Sandbox) -> int:
    return sum(n for key, n in sb.state.counts.items() if " /api/" in key and "/api/auth" not in key)


def clear(sb: Sandbox, field: str) -> None:
    """Seeded leads may hold the field already: empty it, so every lead is triggered."""
    store = sb.state.store
    for lead_id, data in list(store.db.execute("SELECT id, data FROM leads")):
        lead = orjson.loads(data)
        lead.pop(field, None)
        store.db.execute("UPDATE leads SET data = ? WHERE id = ?", (orjson.dumps(lead).decode(),
                                                                   lead_id))


async def bulkio_run(leads: int, tmp: Path) -> dict[str, Any]:
    async with run_sandbox(config(leads)) as sb:
        clear(sb, "enrichment1")
        samples: list[tuple[float, int, int]] = []  # (time, triggers, requests)
        argv = [sys.executable, "-m", "bulkio", "process", "enrich", "--client", "acme-corp",
                "--services", "enrichment1", "--rate", str(QUOTA), "--wait", "--quiet",
                "--job-dir", str(tmp / "job")]
        env = bulkio_env({**sb.info(), "base_url": sb.base_url}, tmp / "auth.json")
        start = time.perf_counter()
        async with await anyio.open_process(argv, env=env) as proc:
            while proc.returncode is None:
                samples.append((time.perf_counter(), sb.state.counts["trigger:enrich"],
                                requests_so_far(sb)))
                with anyio.move_on_after(1.0):
                    await proc.wait()
        seconds = time.perf_counter() - start
        report = orjson.loads((tmp / "job" / "report.json").read_bytes())
        per_lead = Counter({lead: n for (lead, kind), n in sb.state.processing.triggers.items()
                            if kind == "enrich"})
    low, high = 0.1 * leads, 0.9 * leads
    window = [s for s in samples if low <= s[1] <= high]
    (t0, k0, r0), (t1, k1, r1) = window[0], window[-1]
    minutes = (t1 - t0) / 60
    return {"leads": leads, "seconds": round(seconds, 1), "exit": proc.returncode,
            "requests_per_min": (r1 - r0) / minutes, "triggers_per_min": (k1 - k0) / minutes,
            "utilisation": (r1 - r0) / minutes / QUOTA, "trigger_share": (k1 - k0) / max(r1 - r0, 1),
            "duplicate_triggers": sum(1 for n in per_lead.values() if n > 1),
            "leads_triggered": len(per_lead), "runs": report["runs"],
            "completed": report["completed"], "polls": report["polls"],
            "polls_per_run": report["polls"] / max(report["runs"], 1),
            "rate_limited": report["rate_limited"], "requests": report["requests"]}


async def hand_written_run(leads: int) -> dict[str, Any]:
    """Trigger every lead at the quota, then poll every run every 2 s until it is final."""
    async with run_sandbox(config(leads)) as sb:
        clear(sb, "enrichment1")
        limiter = AsyncLimiter(QUOTA / 60, 1)
        headers = {"Authorization": f"Bearer {sb.token}"}
        ids = [i for (i,) in sb.state.store.db.execute("SELECT id FROM leads")]
        polls = 0
        rate_limited = 0
        async with aiohttp.ClientSession(base_url=sb.base_url, headers=headers) as http:
            gate = asyncio.Semaphore(16)

            async def call(method: str, path: str, **kw: Any) -> Any:
                nonlocal rate_limited
                while True:
                    async with limiter, http.request(method, path, **kw) as resp:
                        if resp.status == 429:
                            rate_limited += 1
                            continue
                        return await resp.json()

            async def track(lead_id: str) -> None:
                nonlocal polls
                async with gate:
                    answer = await call("POST", "/api/leads/process/enrich",
                                        json={"leadId": lead_id, "services": ["enrichment1"]})
                for run_id in answer.get("runIds", []):
                    while True:
                        await asyncio.sleep(2.0)
                        polls += 1
                        run = await call("GET", "/api/trigger-task-status",
                                         params={"runId": run_id})
                        if run["run"]["status"] in FINAL:
                            break

            await asyncio.gather(*(track(i) for i in ids))
        runs = len(sb.state.processing.runs)
        return {"leads": leads, "runs": runs, "polls": polls,
                "polls_per_run": polls / max(runs, 1), "rate_limited": rate_limited}


def run(quick: bool) -> dict[str, Any]:
    leads, hand = (500, 100) if quick else (2000, 500)

    async def both() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="bulkio-bench-process-") as folder:
            mine = await bulkio_run(leads, Path(folder))
        theirs = await hand_written_run(hand)
        return {"bulkio": mine, "hand_written": theirs}

    figures = anyio.run(both)
    return {"quick": quick, "quota_per_min": QUOTA, "run_seconds": list(RUN_SECONDS),
            "latency_ms": "50-300", **figures}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    b, h = f["bulkio"], f["hand_written"]
    return [
        ("bulkio: requests a minute against the quota while triggering (triggers' share)",
         f"{b['requests_per_min']:,.0f} of {f['quota_per_min']:,} = {b['utilisation']:.3f} "
         f"({b['trigger_share']:.0%} triggers, {b['triggers_per_min']:,.0f} a minute)"),
        ("bulkio: duplicate triggers / leads triggered",
         f"{b['duplicate_triggers']} / {b['leads_triggered']:,} of {b['leads']:,}"),
        ("status polls a run: bulkio / hand-written (every 2 s)",
         f"{b['polls_per_run']:.2f} / {h['polls_per_run']:.2f}"),
        ("bulkio: runs completed / 429s / whole job",
         f"{b['completed']:,} of {b['runs']:,} / {b['rate_limited']} / {b['seconds']:.0f} s"),
    ]
