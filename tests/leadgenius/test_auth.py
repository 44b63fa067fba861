"""Keeping the JWT fresh, over real HTTP against the sandbox: single flight, fallbacks, write-back."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import anyio
import pytest

from bulkio.errors import AuthError
from bulkio.http.retry import NO_WAIT
from bulkio.leadgenius.authfile import load_auth_file, save_auth_file
from bulkio.leadgenius.client import open_client
from bulkio.leadgenius.settings import Credentials, Settings
from bulkio.sandbox import Sandbox
from bulkio.sandbox import tokens as sandbox_tokens


def expired_token(sb: Sandbox) -> str:
    return sandbox_tokens.issue(sb.user_id, sb.state.store.secret, -10, "access")


async def refresh_token(sb: Sandbox) -> str:
    settings = Settings(base_url=sb.base_url, rate_per_minute=None)
    async with open_client(settings) as client:
        tokens = await client.auth.login(sb.email, sb.password)
    return str(tokens["refreshToken"])


async def fifty_at_once(settings: Settings, wall=time.time) -> int:  # type: ignore[no-untyped-def]
    """Fifty concurrent list_clients calls; returns how many refreshes the client made."""
    from bulkio.http.transport import AiohttpTransport, open_session
    from bulkio.leadgenius.client import LeadGeniusClient

    async with open_session(64, 30) as session:
        client = LeadGeniusClient(settings, AiohttpTransport(session), policy=NO_WAIT, wall=wall)
        results: list[int] = []

        async def one() -> None:
            results.append(len(await client.list_clients()))

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(one)
        assert results == [2] * 50
        return client.stats.refreshes


async def test_fifty_requests_meeting_an_expired_token_refresh_once(sandbox: Sandbox) -> None:
    """An expired token (by its exp) is renewed once, before sending, for all fifty."""
    creds = Credentials(token=expired_token(sandbox), refresh_token=await refresh_token(sandbox))
    settings = Settings(base_url=sandbox.base_url, credentials=creds, rate_per_minute=None)
    assert await fifty_at_once(settings) == 1
    assert sandbox.state.counts["refresh"] == 1
    assert sandbox.state.counts["GET /api/clients"] == 50  # no request sent with the old token


async def test_fifty_401_token_expired_answers_cause_one_refresh(sandbox: Sandbox) -> None:
    """The client's clock says fresh, the server says expired: one refresh, fifty successes."""
    creds = Credentials(token=expired_token(sandbox), refresh_token=await refresh_token(sandbox))
    settings = Settings(base_url=sandbox.base_url, credentials=creds, rate_per_minute=None)
    an_hour_ago = lambda: time.time() - 3600  # noqa: E731 - a skewed clock
    assert await fifty_at_once(settings, wall=an_hour_ago) == 1
    assert sandbox.state.counts["refresh"] == 1


async def test_a_refused_refresh_token_falls_back_to_the_password(sandbox: Sandbox) -> None:
    """Refresh token revoked, password known: one login, then the call succeeds."""
    rt = await refresh_token(sandbox)
    sandbox.state.store.revoke_refresh_tokens()
    creds = Credentials(token=expired_token(sandbox), refresh_token=rt, email=sandbox.email,
                        password=sandbox.password)
    async with open_client(Settings(base_url=sandbox.base_url, credentials=creds,
                                    rate_per_minute=None)) as client:
        assert len(await client.list_clients()) == 2
        assert client.stats.logins == 1
    assert sandbox.state.counts["login"] == 2  # the fixture's own login, and the fallback


async def test_no_way_to_renew_is_a_one_line_auth_error(sandbox: Sandbox) -> None:
    """Expired token, refused refresh token, no password: AuthError naming the fix."""
    rt = await refresh_token(sandbox)
    sandbox.state.store.revoke_refresh_tokens()
    creds = Credentials(token=expired_token(sandbox), refresh_token=rt)
    async with open_client(Settings(base_url=sandbox.base_url, credentials=creds,
                                    rate_per_minute=None)) as client:
        with pytest.raises(AuthError, match="bulkio auth login"):
            await client.list_clients()


async def test_a_wrong_password_names_the_email_not_the_password(sandbox: Sandbox) -> None:
    """Login refused: the message names the account and what to check."""
    creds = Credentials(email=sandbox.email, password="hunter2-wrong")
    async with open_client(Settings(base_url=sandbox.base_url, credentials=creds,
                                    rate_per_minute=None)) as client:
        with pytest.raises(AuthError) as info:
            await client.list_clients()
    assert sandbox.email in str(info.value) and "hunter2-wrong" not in str(info.value)


async def test_a_renewed_token_is_written_back_to_its_auth_file(sandbox: Sandbox,
                                                                tmp_path: Path) -> None:
    """The file that supplied the token gets the new one, stays 0600 and keeps its other fields."""
    from bulkio.leadgenius.settings import resolve_settings

    path = tmp_path / "auth.json"
    old = expired_token(sandbox)
    save_auth_file(path, {"token": old, "refresh_token": await refresh_token(sandbox),
                          "email": sandbox.email, "base_url": sandbox.base_url,
                          "api_key": sandbox.api_key, "user_id": sandbox.user_id})
    settings = resolve_settings(auth_file=str(path), rate="unlimited", env={})
    assert settings.write_back
    async with open_client(settings) as client:
        await client.list_clients()
    saved = load_auth_file(path)
    assert saved["token"] != old and sandbox_tokens.verify(saved["token"], sandbox.state.store.secret)
    assert saved["api_key"] == sandbox.api_key and saved["email"] == sandbox.email
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


async def test_api_key_only_credentials_reach_jwt_endpoints(sandbox: Sandbox) -> None:
    """With only an API key, the JWT endpoints are called with the API-key pair."""
    creds = Credentials(api_key=sandbox.api_key, user_id=sandbox.user_id)
    async with open_client(Settings(base_url=sandbox.base_url, credentials=creds,
                                    rate_per_minute=None)) as client:
        assert len(await client.list_clients()) == 2


async def test_bulk_endpoints_without_an_api_key_say_what_to_set(sandbox: Sandbox) -> None:
    """JWT only: the bulk list is refused before any request, naming LEADGENIUS_API_KEY."""
    creds = Credentials(token=sandbox.token)
    async with open_client(Settings(base_url=sandbox.base_url, credentials=creds,
                                    rate_per_minute=None, company_id=sandbox.company_id)) as client:
        with pytest.raises(AuthError, match="LEADGENIUS_API_KEY"):
            await client.bulk_page()
