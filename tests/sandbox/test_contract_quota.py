"""Contract: per-identity quota, sliding 60 s window, X-RateLimit-* headers, 429 + Retry-After."""

from __future__ import annotations

import pytest

from bulkio.sandbox import SandboxConfig
from bulkio.sandbox.ratelimit import SlidingWindowQuota
from tests.conftest import RawApi


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=5)


async def test_the_quota_counts_down_then_answers_429(api: RawApi) -> None:
    """Five requests pass with Remaining 4..0; the sixth is 429 rate_limited with Retry-After."""
    remaining = []
    for _ in range(5):
        answer = await api.call("GET", "/api/clients")
        assert answer.status == 200
        assert answer.headers["X-RateLimit-Limit"] == "5"
        remaining.append(int(answer.headers["X-RateLimit-Remaining"]))
        assert int(answer.headers["X-RateLimit-Reset"]) > 0
    assert remaining == [4, 3, 2, 1, 0]
    refused = await api.call("GET", "/api/clients")
    assert refused.status == 429
    assert refused.body["errorType"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_the_quota_is_per_identity(api: RawApi) -> None:
    """Another user's requests do not spend this user's quota."""
    other = api.sb.state.add_user("other@sandbox.local")
    for _ in range(5):
        await api.call("GET", "/api/clients")
    theirs = await api.call("GET", "/api/clients",
                            headers={"x-api-key": other.api_key, "x-user-id": other.id})
    assert theirs.status == 200


async def test_unlimited_sends_no_headers(api: RawApi) -> None:
    """--quota unlimited: no X-RateLimit-* headers and never 429."""
    api.sb.config.quota_per_minute = None
    for _ in range(10):
        answer = await api.call("GET", "/api/clients")
        assert answer.status == 200 and "X-RateLimit-Limit" not in answer.headers


def test_the_window_slides() -> None:
    """A slot frees exactly 60 s after the request that used it; refused requests don't count."""
    now = [0.0]
    quota = SlidingWindowQuota(clock=lambda: now[0], wall=lambda: 1_000_000 + now[0])
    for t in (0.0, 10.0, 20.0):
        now[0] = t
        assert quota.check("u", 3).allowed  # type: ignore[union-attr]
    now[0] = 30.0
    refused = quota.check("u", 3)
    assert refused is not None and not refused.allowed and refused.retry_after == 30
    assert refused.reset_epoch == 1_000_060
    now[0] = 59.9
    assert not quota.check("u", 3).allowed  # type: ignore[union-attr]
    now[0] = 60.0
    verdict = quota.check("u", 3)
    assert verdict is not None and verdict.allowed and verdict.remaining == 0
