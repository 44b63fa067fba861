"""The run's quota, on a virtual clock: pacing, no burst at start, and the server's feedback."""

from __future__ import annotations

import asyncio
import itertools
import logging

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.http.quota import Quota, bucket, parse_retry_after
from bulkio.http.retry import NO_WAIT
from bulkio.http.transport import FakeTransport, Request, Response, json_response
from bulkio.leadgenius.client import LeadGeniusClient
from bulkio.leadgenius.settings import Credentials, Settings
from tests.virtual_time import run_virtual

EPOCH = 1_800_000_000.0
SETTINGS = Settings(base_url="http://127.0.0.1:1", rate_per_minute=None,
                    credentials=Credentials(api_key="k" * 20, user_id="u"))


def now() -> float:
    return asyncio.get_running_loop().time()


def wall() -> float:
    return EPOCH + now()


async def acquisitions(quota: Quota, total: int, workers: int = 50) -> list[float]:
    """`workers` tasks take `total` slots between them; the times at which they got them."""
    times: list[float] = []

    async def worker() -> None:
        while len(times) < total:
            await quota.acquire()
            times.append(now())

    async with anyio.create_task_group() as tg:
        for _ in range(workers):
            tg.start_soon(worker)
    return sorted(times)[:total]


@pytest.mark.parametrize("per_minute", [100, 1000, 6000])
def test_never_more_than_the_quota_in_any_60_second_window(per_minute: int) -> None:
    """Any run of quota+1 consecutive slots spans at least 60 s; pacing stays close to it."""
    total = int(per_minute * 2.5)
    times = run_virtual(lambda: acquisitions(Quota(per_minute), total))
    assert all(times[i + per_minute] - times[i] >= 60.0 for i in range(total - per_minute))
    achieved = (total - 1) / (times[-1] - times[0]) * 60
    assert per_minute * 0.985 <= achieved <= per_minute  # by design 99% at 100/min


@pytest.mark.parametrize("per_minute", [100, 1000])
def test_no_burst_at_start(per_minute: int) -> None:
    """The first second admits about one second's worth, not a minute's worth."""
    times = run_virtual(lambda: acquisitions(Quota(per_minute), per_minute // 2))
    first_second = sum(1 for t in times if t - times[0] < 1.0)
    assert first_second <= per_minute / 60 + bucket(per_minute)[0]


@given(st.floats(min_value=1, max_value=1_000_000))
def test_bucket_sizing_never_exceeds_the_quota(per_minute: float) -> None:
    """burst + 60 s of leak never exceeds the quota, and the leak rate is positive."""
    burst, rate = bucket(per_minute)
    assert rate > 0 and burst >= 1
    assert burst + 60 * rate <= per_minute + max(1.0, per_minute * 1e-9) or burst == 1


def run_client(handler, requests: int, workers: int, per_minute: float | None = None):  # type: ignore[no-untyped-def]
    """Run `requests` GETs from `workers` tasks through a client whose transport is `handler`."""

    async def main() -> tuple[FakeTransport, LeadGeniusClient]:
        transport = FakeTransport(handler)
        client = LeadGeniusClient(SETTINGS, transport, quota=Quota(per_minute, wall=wall),
                                  policy=NO_WAIT, wall=wall)
        left = [requests]

        async def worker() -> None:
            while left[0] > 0:
                left[0] -= 1
                await client.request("GET", "/api/clients")

        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(worker)
        return transport, client

    return run_virtual(main)


def test_a_429_pauses_every_worker_for_retry_after() -> None:
    """After a 429 with Retry-After 30, no worker sends anything for 30 s."""
    sent: list[tuple[float, int]] = []

    def handler(request: Request) -> Response:
        status = 429 if len(sent) == 5 else 200
        sent.append((now(), status))
        return json_response(status, {"success": status == 200, "clients": []},
                             {"Retry-After": "30"} if status == 429 else {})

    _, client = run_client(handler, requests=40, workers=10)
    refused_at = next(t for t, s in sent if s == 429)
    after = [t for t, _ in sent if t > refused_at]
    assert after and min(after) >= refused_at + 30
    assert client.stats.rate_limited == 1 and client.stats.retries == 1
    assert sum(1 for _, s in sent if s == 200) == 40  # the refused one went through later


def test_remaining_zero_pauses_until_reset(caplog: pytest.LogCaptureFixture) -> None:
    """X-RateLimit-Remaining: 0 holds every worker until X-RateLimit-Reset, before any 429.
    That is pacing, not a problem: said at info, never as a warning."""
    sent: list[float] = []

    def handler(request: Request) -> Response:
        sent.append(now())
        headers = {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "5"}
        if len(sent) == 3:
            headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(wall()) + 12)}
        return json_response(200, {"success": True, "clients": []}, headers)

    with caplog.at_level(logging.INFO, logger="bulkio.quota"):
        run_client(handler, requests=10, workers=4)
    third = sent[2]
    assert all(t <= third or t >= third + 11 for t in sent)
    assert max(sent) >= third + 11
    pauses = [r for r in caplog.records if "pausing all requests" in r.getMessage()]
    assert pauses and all(r.levelno == logging.INFO for r in pauses)


def test_a_lower_server_limit_slows_the_run_to_it() -> None:
    """Configured for 1,000/min, told X-RateLimit-Limit 60: from then on about one a second."""
    sent: list[float] = []

    def handler(request: Request) -> Response:
        sent.append(now())
        return json_response(200, {"success": True, "clients": []}, {"X-RateLimit-Limit": "60"})

    run_client(handler, requests=30, workers=8, per_minute=1000)
    later = sent[10:]
    gaps = [b - a for a, b in itertools.pairwise(later)]
    assert min(gaps) >= 0.99


@pytest.mark.parametrize(("value", "seconds"), [("30", 30.0), ("0", 0.0), ("1.5", 1.5),
                                                 (None, None), ("soon", None)])
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    """Retry-After in seconds; absent or garbage is None."""
    assert parse_retry_after(value) == seconds


def test_retry_after_http_date() -> None:
    """Retry-After as an HTTP date counts from the wall clock."""
    assert parse_retry_after("Thu, 01 Jan 2026 00:01:00 GMT", wall=lambda: 1767225600.0) == 60.0
