"""Retry classification: what is retried, what gives up, and when a create's outcome is unknown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.errors import (
    ApiError,
    ConnectError,
    LeadRejected,
    OutcomeUnknown,
    RateLimited,
    ResponseLost,
    TransientApiError,
)
from bulkio.http.quota import Quota
from bulkio.http.retry import NO_WAIT, RetryPolicy
from bulkio.http.transport import FakeTransport, Request, Response, json_response
from bulkio.leadgenius.client import LeadGeniusClient
from bulkio.leadgenius.settings import Credentials, Settings
from bulkio.leadgenius.wire import VALIDATION_500
from tests.virtual_time import run_virtual

SETTINGS = Settings(base_url="http://127.0.0.1:1", rate_per_minute=None,
                    credentials=Credentials(api_key="k" * 20, user_id="u"))
OK_LEAD = json_response(201, {"success": True, "lead": {"id": "lead-1"}})


def script(*outcomes: Response | Exception) -> Callable[[Request], Response]:
    """A handler that plays `outcomes` in order, then repeats the last one."""
    queue = list(outcomes)

    def handler(_request: Request) -> Response:
        outcome = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return handler


def status(code: int, error: str = "boom") -> Response:
    return json_response(code, {"success": False, "error": error, "errorType": "x"})


def run(handler: Callable[[Request], Response], call: str = "create",
        policy: RetryPolicy = NO_WAIT) -> tuple[Any, LeadGeniusClient, FakeTransport]:
    async def main() -> tuple[Any, LeadGeniusClient, FakeTransport]:
        transport = FakeTransport(handler)
        client = LeadGeniusClient(SETTINGS, transport, quota=Quota(None), policy=policy)
        if call == "create":
            result = await client.create_lead({"client_id": "c", "firstName": "A", "lastName": "B"})
        else:
            result = await client.update_lead("lead-1", {"title": "x"})
        return result, client, transport

    return run_virtual(main)


def test_a_transient_503_is_retried_and_counted() -> None:
    """503, 503, then 201: success after three requests, two retries counted."""
    result, client, transport = run(script(status(503), status(503), OK_LEAD))
    assert result == {"id": "lead-1"}
    assert len(transport.requests) == 3 and client.stats.retries == 2 and client.stats.requests == 3


def test_attempts_are_bounded() -> None:
    """Always 503: gives up after `attempts` tries with the last error."""
    with pytest.raises(TransientApiError) as info:
        run(script(status(503)), policy=RetryPolicy(attempts=4, base_delay=0, max_delay=0))
    assert info.value.status == 503


def test_the_validation_500_is_never_retried() -> None:
    """'Failed to create lead - no data returned' rejects the lead at once."""
    handler = script(status(500, VALIDATION_500))
    transport = FakeTransport(handler)

    async def main() -> None:
        client = LeadGeniusClient(SETTINGS, transport, quota=Quota(None), policy=NO_WAIT)
        with pytest.raises(LeadRejected):
            await client.create_lead({"client_id": "c"})

    run_virtual(main)
    assert len(transport.requests) == 1


@pytest.mark.parametrize("failure", [status(500), status(502), status(504),
                                     ResponseLost("dropped")])
def test_a_create_that_may_have_happened_is_outcome_unknown(failure: Response | Exception) -> None:
    """After a 500/502/504 or a lost answer a create is not repeated blindly."""
    with pytest.raises(OutcomeUnknown):
        run(script(failure, OK_LEAD))


@pytest.mark.parametrize("failure", [status(500), status(502), status(504),
                                     ResponseLost("dropped")])
def test_the_same_failures_are_retried_for_idempotent_calls(failure: Response | Exception) -> None:
    """An update (PUT) is safe to repeat: retried."""
    ok = json_response(200, {"success": True, "lead": {"id": "lead-1"}})
    result, client, _ = run(script(failure, ok), call="update")
    assert result == {"id": "lead-1"} and client.stats.retries == 1


@pytest.mark.parametrize("failure", [status(503), ConnectError("refused"),
                                     json_response(429, {"success": False}, {"Retry-After": "1"})])
def test_a_create_that_certainly_did_not_happen_is_retried(failure: Response | Exception) -> None:
    """503, a refused connection or a 429: the create did not happen, so it is sent again."""
    result, _, transport = run(script(failure, OK_LEAD))
    assert result == {"id": "lead-1"} and len(transport.requests) == 2


def test_429s_do_not_spend_the_attempt_budget() -> None:
    """Ten 429s, then success, under a policy of two attempts."""
    limited = json_response(429, {"success": False}, {"Retry-After": "1"})
    result, client, _ = run(script(*[limited] * 10, OK_LEAD),
                            policy=RetryPolicy(attempts=2, base_delay=0, max_delay=0))
    assert result == {"id": "lead-1"} and client.stats.rate_limited == 10


def test_client_errors_are_not_retried() -> None:
    """A 400 is the caller's problem: raised after one request."""
    with pytest.raises(ApiError) as info:
        run(script(status(400)), call="update")
    assert info.value.status == 400 and not isinstance(info.value, TransientApiError)


def test_backoff_waits_on_the_clock() -> None:
    """Retries really wait: jittered backoff advances (virtual) time."""

    async def main() -> float:
        transport = FakeTransport(script(status(503), status(503), OK_LEAD))
        client = LeadGeniusClient(SETTINGS, transport, quota=Quota(None),
                                  policy=RetryPolicy(base_delay=1.0, max_delay=1.0))
        start = asyncio.get_running_loop().time()
        await client.create_lead({"client_id": "c"})
        return asyncio.get_running_loop().time() - start

    assert 0 < run_virtual(main) <= 2.0 + 1e-3


@given(st.integers(min_value=1, max_value=60))
def test_full_jitter_stays_within_its_ceiling(failures: int) -> None:
    """backoff(n) is in [0, min(cap, base * 2^(n-1))]."""
    policy = RetryPolicy(base_delay=0.5, max_delay=30.0)
    delay = policy.backoff(failures)
    assert 0 <= delay <= min(30.0, 0.5 * 2 ** (failures - 1))


def test_rate_limited_carries_retry_after() -> None:
    """RateLimited keeps Retry-After as a number."""
    assert RateLimited(12.5).retry_after == 12.5
