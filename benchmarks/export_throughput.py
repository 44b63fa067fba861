"""Benchmark 4, export-throughput.

1. One cursor, no added latency: `bulkio export` (a real process, peak RSS from the kernel)
   against a raw aiohttp loop that pages the same endpoint and writes each response's bytes
   unparsed (finding `nextToken` by a byte search). Alternating rounds, best of each. Then the
   same with 250 ms of page latency, as a server that is not on the same machine has.
2. The same number of leads as 20 clients, with 300 ms page latency: bulkio's concurrent
   per-client cursors against one sequential cursor (`bulkio export --single-cursor`).
3. Why bulkio writes in chunks: NDJSON lines written through aiofiles one call per record,
   against one call per 5,000-record chunk.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiofiles
import aiohttp
import orjson

from .common import bulkio_env, sandbox
from .peak_rss import run_measured

NAME = "export-throughput"
PAGE = 5000


async def raw_export(info: dict[str, str], out: Path) -> int:
    """The physical limit of one cursor: download every page, write the bytes as they came."""
    headers = {"x-api-key": info["api_key"], "x-user-id": info["user_id"]}
    url = info["base_url"] + "/api/enrich-leads/list"
    params = {"companyId": info["company_id"], "clientId": "ALL", "limit": str(PAGE)}
    pages = 0
    async with aiohttp.ClientSession(headers=headers) as session:
        with out.open("wb") as f:
            while True:
                async with session.get(url, params=params) as resp:
                    body = await resp.read()
                    assert resp.status == 200, body[:200]
                f.write(body)
                pages += 1
                at = body.rfind(b'"nextToken":')
                token = orjson.loads(body[at + 12:].rstrip(b"}"))
                if not token:
                    return pages
                params["nextToken"] = token


def bulkio_export(info: dict[str, str], tmp: Path, run: str, *extra: str) -> dict[str, Any]:
    out = tmp / f"{run}.ndjson"
    cmd = [sys.executable, "-m", "bulkio", "export", "--out", str(out), "--rate", "unlimited",
           "--quiet", "--job-dir", str(tmp / f"job-{run}"), "--report", str(tmp / f"{run}.json"),
           *extra]
    start = time.perf_counter()
    code, peak_mb = run_measured(cmd, bulkio_env(info, tmp / "auth.json"))
    elapsed = time.perf_counter() - start
    report = orjson.loads((tmp / f"{run}.json").read_bytes())
    out.unlink()
    return {"exit_code": code, "elapsed_s": elapsed, "records": report["records"],
            "peak_rss_mb": peak_mb, "requests": report["requests"]}


def one_cursor(quick: bool, tmp: Path, leads: int, latency_ms: int = 0) -> dict[str, Any]:
    rounds = 1 if quick else 2
    bulkio_runs, raw_runs = [], []
    with sandbox("--quota", "unlimited", "--clients", "1", "--leads", str(leads),
                 "--latency-ms", str(latency_ms), "--db", str(tmp / f"one-{latency_ms}.db")) as sb:
        for i in range(rounds):
            start = time.perf_counter()
            pages = asyncio.run(raw_export(sb.info, tmp / "raw.bin"))
            raw_runs.append(time.perf_counter() - start)
            (tmp / "raw.bin").unlink()
            bulkio_runs.append(bulkio_export(sb.info, tmp, f"one-{i}"))
    best = min(bulkio_runs, key=lambda r: r["elapsed_s"])
    raw_best = min(raw_runs)
    return {"leads": leads, "latency_ms": latency_ms, "pages": pages, "rounds": rounds,
            "raw_records_per_s": leads / raw_best,
            "bulkio_records_per_s": best["records"] / best["elapsed_s"],
            "ratio": (best["records"] / best["elapsed_s"]) / (leads / raw_best),
            "bulkio_records": best["records"],
            "bulkio_peak_rss_mb": max(r["peak_rss_mb"] for r in bulkio_runs),
            "bulkio_exit_codes": [r["exit_code"] for r in bulkio_runs]}


def many_clients(quick: bool, tmp: Path) -> dict[str, Any]:
    clients = 20
    leads = 40_000 if quick else 1_000_000
    with sandbox("--quota", "unlimited", "--clients", str(clients), "--leads", str(leads),
                 "--latency-ms", "300", "--db", str(tmp / "many.db")) as sb:
        per_client = bulkio_export(sb.info, tmp, "per-client", "--concurrency", str(clients))
        single = bulkio_export(sb.info, tmp, "single", "--single-cursor")
        one = bulkio_export(sb.info, tmp, "one-client", "--client", "acme-corp")
    return {"clients": clients, "leads": leads, "latency_ms": 300,
            "per_client_s": per_client["elapsed_s"], "single_cursor_s": single["elapsed_s"],
            "per_client_records": per_client["records"], "single_records": single["records"],
            "speed_up": single["elapsed_s"] / per_client["elapsed_s"],
            "one_client_s": one["elapsed_s"], "one_client_records": one["records"]}


async def write_lines(path: Path, lines: list[bytes], per_call: int) -> float:
    start = time.perf_counter()
    async with aiofiles.open(path, "wb") as f:
        for at in range(0, len(lines), per_call):
            await f.write(b"".join(lines[at:at + per_call]))
    return time.perf_counter() - start


def aiofiles_calls(quick: bool, tmp: Path) -> dict[str, Any]:
    records = 5_000 if quick else 100_000
    lines = [orjson.dumps({"id": f"lead-{i}", "email": f"a{i}@example.com",
                           "companyName": "Analytical Engines"}, option=orjson.OPT_APPEND_NEWLINE)
             for i in range(records)]
    per_record = asyncio.run(write_lines(tmp / "a.ndjson", lines, 1))
    chunked = asyncio.run(write_lines(tmp / "b.ndjson", lines, PAGE))
    return {"records": records, "per_record_s": per_record, "per_chunk_s": chunked,
            "slowdown": per_record / chunked}


def run(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-") as folder:
        tmp = Path(folder)
        return {"quick": quick,
                "one_cursor": one_cursor(quick, tmp, 50_000 if quick else 1_000_000),
                "one_cursor_latency": one_cursor(quick, tmp, 15_000 if quick else 200_000, 250),
                "many_clients": many_clients(quick, tmp), "aiofiles": aiofiles_calls(quick, tmp)}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    one, many, files = f["one_cursor"], f["many_clients"], f["aiofiles"]
    slow = f["one_cursor_latency"]
    return [
        (f"one cursor, {one['leads']:,} leads, pages of {PAGE:,}, no added latency",
         f"best of {one['rounds']}"),
        ("raw loop (bytes written unparsed): records a second", f"{one['raw_records_per_s']:,.0f}"),
        ("bulkio export: records a second (goal >= 0.8 of raw)",
         f"{one['bulkio_records_per_s']:,.0f} = {one['ratio']:.2f}"),
        ("bulkio export: peak RSS (goal flat, well under 200 MB)",
         f"{one['bulkio_peak_rss_mb']:,.0f} MB"),
        (f"one cursor, {slow['leads']:,} leads, {slow['latency_ms']} ms a page: raw vs bulkio",
         f"{slow['raw_records_per_s']:,.0f} vs {slow['bulkio_records_per_s']:,.0f} = "
         f"{slow['ratio']:.2f}"),
        (f"{many['clients']} clients, {many['leads']:,} leads, {many['latency_ms']} ms a page: "
         "one client alone", f"{many['one_client_s']:,.1f} s ({many['one_client_records']:,})"),
        ("one sequential cursor (--single-cursor)", f"{many['single_cursor_s']:,.1f} s"),
        ("bulkio, a cursor per client at once", f"{many['per_client_s']:,.1f} s "
                                                  f"(x{many['speed_up']:.1f})"),
        (f"aiofiles: {files['records']:,} lines, a call per record vs a call per {PAGE:,}",
         f"{files['per_record_s']:.2f} s vs {files['per_chunk_s']:.3f} s (x{files['slowdown']:.0f})"),
    ]
