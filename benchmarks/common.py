"""What every benchmark shares: machine facts, a sandbox process, load loops, results files."""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    import bulkio

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "machine": platform.machine(),
            "bulkio": bulkio.__version__, "aiohttp": aiohttp.__version__,
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


@dataclass
class Server:
    """A server in its own process (so it has its own core), and what it printed first."""

    proc: subprocess.Popen[str]
    info: dict[str, str]
    started_in: float  # seconds from spawn to listening (includes seeding)

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    def rss_mb(self) -> float:
        """The process's resident memory now (VmRSS), read from /proc: measured from outside.

        Not VmHWM: a child's high-water mark includes its parent's pages at fork time.
        """
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


@contextmanager
def server(argv: list[str]) -> Iterator[Server]:
    """Start `argv` (which prints one JSON line once listening); stop it at the end."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{argv[:4]} did not start")
        yield Server(proc, orjson.loads(line), time.perf_counter() - start)
    finally:
        stop(proc, signal.SIGTERM)


def stop(proc: subprocess.Popen[Any], sig: int) -> None:
    """Ask a process to stop with `sig`; kill it if it is still there 30 seconds later."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def sandbox(*knobs: str) -> Any:
    return server([sys.executable, "-m", "bulkio", "sandbox", "--port", "0", *knobs])


async def post_rate(url: str, headers: dict[str, str], payloads: list[bytes],
                    concurrency: int) -> float:
    """Requests a second for POSTing every payload once, `concurrency` at a time, raw aiohttp."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        queue = iter(payloads)
        failures = 0

        async def worker() -> None:
            nonlocal failures
            for body in queue:
                async with session.post(url, data=body) as resp:
                    await resp.read()
                    failures += resp.status >= 300

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{failures} POSTs failed during the measurement")
    return len(payloads) / elapsed


async def median_get(url: str, headers: dict[str, str], params: dict[str, str], rounds: int
                     ) -> tuple[float, int]:
    """Median seconds to GET and read `url`, and the size of the last body."""
    times, size = [], 0
    async with aiohttp.ClientSession(headers=headers) as session:
        for _ in range(rounds):
            start = time.perf_counter()
            async with session.get(url, params=params) as resp:
                body = await resp.read()
                assert resp.status == 200, body[:200]
            times.append(time.perf_counter() - start)
            size = len(body)
    return statistics.median(times), size


def write_result(name: str, figures: dict[str, Any], out: Path = RESULTS) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    path.write_bytes(orjson.dumps({"benchmark": name, "machine": machine(), **figures},
                                  option=orjson.OPT_INDENT_2) + b"\n")
    return path


def write_csv(path: Path, rows: int, prefix: str = "lead") -> Path:
    """A clean CSV of `rows` distinct leads (the column names of LeadGenius's documentation)."""
    with path.open("w", encoding="utf-8") as f:
        f.write("First Name,Last Name,Email,Company,Title\n")
        for i in range(rows):
            f.write(f"Ada,Lovelace,{prefix}{i}@example.com,Analytical Engines,Engineer\n")
    return path


def bulkio_env(info: dict[str, str], auth_file: Path) -> dict[str, str]:
    """An environment in which `bulkio` reaches this sandbox (and not your real account)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADGENIUS_")}
    env.update(LEADGENIUS_BASE_URL=info["base_url"], LEADGENIUS_EMAIL=info["email"],
               LEADGENIUS_PASSWORD=info["password"], LEADGENIUS_API_KEY=info["api_key"],
               LEADGENIUS_USER_ID=info["user_id"], LEADGENIUS_AUTH_FILE=str(auth_file))
    return env


def settings_for(info: dict[str, str], **extra: Any) -> Any:
    from bulkio.leadgenius.settings import Credentials, Settings

    creds = Credentials(email=info["email"], password=info["password"], api_key=info["api_key"],
                        user_id=info["user_id"])
    return Settings(base_url=info["base_url"], credentials=creds, **extra)


async def count_leads(info: dict[str, str], slug: str) -> int:
    from bulkio.leadgenius.client import open_client

    async with open_client(settings_for(info, rate_per_minute=None)) as client:
        return await client.count_leads(slug)


def stored_leads(db: Path, slug: str) -> int:
    """Leads of a client in a sandbox's --db file, read directly: costs the contender no quota."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM leads WHERE client_id = ?", (slug,))
                   .fetchone()[0])


def steady_rate(argv: list[str], env: dict[str, str], db: Path, slug: str, warm_up: float,
                seconds: float, *, from_first_lead: bool = False, cap: float = 900.0
                ) -> tuple[float, list[tuple[float, int]]]:
    """Leads a minute a command stores once warmed up: counted at `warm_up` seconds (after the
    first lead is stored, with `from_first_lead`: for a command that fetches everything before
    it sends anything) and at `warm_up + seconds`, then the command is stopped (SIGINT,
    SIGKILL if it lingers). Also the count once a second from the start, for the chart."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    series: list[tuple[float, int]] = []
    start = time.perf_counter()
    origin = None if from_first_lead else 0.0
    try:
        at = 0
        while origin is None or series[-1][0] < origin + warm_up + seconds:
            at += 1
            time.sleep(max(0.0, start + at - time.perf_counter()))  # a sampling clock, not a sync
            series.append((time.perf_counter() - start, stored_leads(db, slug)))
            if origin is None and series[-1][1] > 0:
                origin = series[-1][0]
            if at > cap:
                raise RuntimeError(f"{argv[:3]} stored nothing in {cap:.0f} s")
    finally:
        stop(proc, signal.SIGINT)
    (t0, c0) = next(p for p in series if p[0] >= origin + warm_up)
    (t1, c1) = series[-1]
    return (c1 - c0) / (t1 - t0) * 60, series
