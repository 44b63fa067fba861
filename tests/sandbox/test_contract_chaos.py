"""The chaos knobs: transient errors before the work, lost answers after it, dropped connections."""

from __future__ import annotations

import aiohttp
import pytest

from bulkio.sandbox import SandboxConfig
from bulkio.sandbox.chaos import Chaos
from tests.conftest import RawApi, lead


@pytest.fixture
async def slug(api: RawApi) -> str:
    return (await api.slugs())[0]


def stored(api: RawApi, slug: str) -> int:
    return api.sb.state.store.count_leads(api.sb.company_id, slug)


async def test_error_rate_answers_500_or_503_without_doing_the_work(api: RawApi, slug: str) -> None:
    """--error-rate 1: every request fails transiently and nothing is stored."""
    before = stored(api, slug)
    api.sb.config.error_rate = 1.0
    statuses = {(await api.call("POST", "/api/leads", json=lead(slug))).status for _ in range(20)}
    assert statuses <= {500, 503} and statuses
    assert stored(api, slug) == before


async def test_lost_responses_do_the_work_then_lose_the_answer(api: RawApi, slug: str) -> None:
    """--lost-response-rate 1: 502, 504 or a dropped connection, but the lead is stored."""
    before = stored(api, slug)
    api.sb.config.lost_response_rate = 1.0
    outcomes: set[int | str] = set()
    for i in range(20):
        try:
            outcomes.add((await api.call("POST", "/api/leads", json=lead(slug, email=f"{i}@x.com"))).status)
        except aiohttp.ServerDisconnectedError:
            outcomes.add("dropped")
    assert outcomes <= {502, 504, "dropped"} and len(outcomes) >= 2
    assert stored(api, slug) == before + 20


async def test_drop_rate_closes_the_connection_before_the_work(api: RawApi, slug: str) -> None:
    """--drop-rate 1: the connection closes with no answer and nothing is stored."""
    before = stored(api, slug)
    api.sb.config.drop_rate = 1.0
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("POST", "/api/leads", json=lead(slug))
    assert stored(api, slug) == before


def test_latency_is_drawn_from_the_range() -> None:
    """--latency-ms MIN-MAX draws uniformly within the range; the seed makes it repeatable."""
    config = SandboxConfig(latency_ms=(50, 300), chaos_seed=7)
    draws = [Chaos(config).latency() for _ in range(3)]
    assert draws[0] == draws[1] == draws[2]
    chaos = Chaos(config)
    values = [chaos.latency() for _ in range(500)]
    assert all(0.05 <= v <= 0.3 for v in values)
    assert max(values) - min(values) > 0.2
