"""Settings: flags, then environment, then the auth file; loopback-only plain http."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.errors import ConfigError
from bulkio.leadgenius.authfile import save_auth_file
from bulkio.leadgenius.settings import parse_rate, resolve_settings


@pytest.fixture
def auth_file(tmp_path: Path) -> str:
    path = tmp_path / "auth.json"
    save_auth_file(path, {"token": "file-token", "refresh_token": "file-refresh",
                          "email": "file@x.com", "user_id": "file-user",
                          "base_url": "https://api.example.com", "api_key": "file-key"})
    return str(path)


def test_flags_beat_environment_beat_file(auth_file: str) -> None:
    """Each setting is taken from the first place that has it."""
    env = {"LEADGENIUS_COMPANY_ID": "env-co", "LEADGENIUS_EMAIL": "env@x.com"}
    s = resolve_settings(auth_file=auth_file, company_id="flag-co", env=env)
    assert s.base_url == "https://api.example.com"  # from the file
    assert s.company_id == "flag-co"
    assert s.credentials.email == "env@x.com"
    assert s.credentials.token == "file-token" and s.credentials.api_key == "file-key"
    assert s.write_back


def test_environment_token_is_not_written_back(auth_file: str) -> None:
    """A token from LEADGENIUS_TOKEN is used but refreshed tokens do not go to the file."""
    s = resolve_settings(auth_file=auth_file, env={"LEADGENIUS_TOKEN": "env-token"})
    assert s.credentials.token == "env-token" and not s.write_back


def test_the_file_is_ignored_for_another_server(auth_file: str) -> None:
    """Credentials saved for one base URL are never sent to another."""
    s = resolve_settings(auth_file=auth_file, base_url="http://127.0.0.1:9", env={})
    assert s.credentials.token is None and s.credentials.api_key is None and not s.write_back


@pytest.mark.parametrize("url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:80"])
def test_plain_http_to_loopback_is_allowed(url: str) -> None:
    """Loopback needs no TLS."""
    assert resolve_settings(base_url=url, env={}).base_url == url


def test_plain_http_elsewhere_needs_insecure() -> None:
    """http:// to a real host is refused unless --insecure."""
    with pytest.raises(ConfigError, match="--insecure"):
        resolve_settings(base_url="http://api.example.com", env={})
    assert resolve_settings(base_url="http://api.example.com", insecure=True, env={}).base_url


@pytest.mark.parametrize("url", ["ftp://x", "not a url", "https://"])
def test_a_bad_base_url_says_what_to_set(url: str) -> None:
    """A base URL that is not http(s) is a ConfigError naming the setting."""
    with pytest.raises(ConfigError, match="LEADGENIUS_BASE_URL"):
        resolve_settings(base_url=url, env={})


def test_the_seeds_api_suffix_is_accepted() -> None:
    """LeadGenius's documentation writes the base URL with /api; both forms work."""
    assert resolve_settings(base_url="https://last.leadgenius.app/api/", env={}).base_url == \
        "https://last.leadgenius.app"


def test_tiers_and_rates() -> None:
    """standard is the default; premium 1000; --rate N; unlimited; not both."""
    assert resolve_settings(env={}).rate_per_minute == 100
    assert resolve_settings(tier="premium", env={}).rate_per_minute == 1000
    assert resolve_settings(rate="6000", env={}).rate_per_minute == 6000
    assert resolve_settings(rate="unlimited", env={}).rate_per_minute is None
    for bad in ({"tier": "gold"}, {"tier": "premium", "rate": "10"}, {"rate": "-5"},
                {"rate": "fast"}, {"concurrency": 0}, {"timeout": 0.0}):
        with pytest.raises(ConfigError):
            resolve_settings(env={}, **bad)


def test_concurrency_follows_the_rate() -> None:
    """Enough senders for ~3 s of latency at the quota, within bounds; a flag overrides."""
    assert resolve_settings(env={}).effective_concurrency == 5
    assert resolve_settings(tier="premium", env={}).effective_concurrency == 50
    assert resolve_settings(rate="unlimited", env={}).effective_concurrency == 64
    assert resolve_settings(concurrency=7, env={}).effective_concurrency == 7


def test_repr_holds_no_secret(auth_file: str) -> None:
    """Settings can be logged: repr() leaves the secrets out."""
    s = resolve_settings(auth_file=auth_file, env={"LEADGENIUS_PASSWORD": "pw-secret-1"})
    text = repr(s)
    for secret in ("file-token", "file-refresh", "file-key", "pw-secret-1"):
        assert secret not in text


@given(st.floats(min_value=0.001, max_value=1e9, allow_nan=False))
def test_rate_round_trip(value: float) -> None:
    """Any positive rate written as text parses back to itself."""
    assert parse_rate(repr(value)) == value
