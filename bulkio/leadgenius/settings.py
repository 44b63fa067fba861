"""Settings for one run: flags first, then the environment, then the saved-credentials file.

Secrets come only from the environment or the auth file, never from flags (a flag shows in
`ps` and in shell history). Credentials in the auth file are used only when the file was
written for the same base URL: a production token is never sent to a sandbox, nor the reverse.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..http.urls import normalise_base_url
from .authfile import load_auth_file

DEFAULT_BASE_URL = "https://last.leadgenius.app"
BASE_URL_SETTING = "--base-url or LEADGENIUS_BASE_URL"
DEFAULT_AUTH_FILE = "~/.leadgenius_auth.json"
TIERS = {"standard": 100, "premium": 1000}
DEFAULT_TIER = "standard"
DEFAULT_TIMEOUT = 30.0
FILE_FIELD_NAMES = {"token": "access token", "refresh_token": "refresh token", "email": "email",
                    "api_key": "API key", "user_id": "user id"}


@dataclass(frozen=True)
class Credentials:
    """What bulkio may authenticate with. Secrets are kept out of repr()."""

    token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    email: str | None = None
    password: str | None = field(default=None, repr=False)
    api_key: str | None = field(default=None, repr=False)
    user_id: str | None = None

    @property
    def can_use_jwt(self) -> bool:
        return bool(self.token or self.refresh_token or (self.email and self.password))

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key and self.user_id)

    def secrets(self) -> list[str]:
        """Every secret value, for redaction."""
        return [s for s in (self.token, self.refresh_token, self.password, self.api_key) if s]


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    credentials: Credentials = field(default_factory=Credentials)
    company_id: str | None = None
    auth_file: Path = field(default_factory=lambda: Path(DEFAULT_AUTH_FILE).expanduser())
    #: True when the JWT came from auth_file: refreshed tokens are written back there.
    write_back: bool = False
    #: Which credentials came from auth_file ("refresh token", "API key"...), for `auth status`.
    from_file: tuple[str, ...] = ()
    #: Requests a minute for the whole run; None means no client-side quota.
    rate_per_minute: float | None = TIERS[DEFAULT_TIER]
    concurrency: int = 0  # 0: derived from the rate (see effective_concurrency)
    timeout: float = DEFAULT_TIMEOUT
    insecure: bool = False

    @property
    def effective_concurrency(self) -> int:
        """Enough senders to keep the quota busy at up to ~3 s of latency (Little's law)."""
        if self.concurrency:
            return self.concurrency
        if self.rate_per_minute is None:
            return 64
        return max(4, min(256, math.ceil(self.rate_per_minute / 60 * 3)))


def parse_rate(text: str) -> float | None:
    """`--rate`: requests a minute, or `unlimited` (no client-side quota)."""
    if text.strip().lower() in ("unlimited", "none", "off"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"--rate must be a number of requests a minute or 'unlimited', "
                          f"not {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise ConfigError("--rate must be a positive number of requests a minute")
    return value


def resolve_settings(
    *,
    base_url: str | None = None,
    company_id: str | None = None,
    auth_file: str | None = None,
    tier: str | None = None,
    rate: str | None = None,
    concurrency: int | None = None,
    timeout: float | None = None,
    insecure: bool = False,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build Settings from flag values (None when not given), the environment and the file.

    Raises ConfigError with a one-line message saying what to fix.
    """
    env = os.environ if env is None else env
    path = Path(auth_file or env.get("LEADGENIUS_AUTH_FILE") or DEFAULT_AUTH_FILE).expanduser()
    saved = load_auth_file(path)
    url = normalise_base_url(
        base_url or env.get("LEADGENIUS_BASE_URL") or saved.get("base_url") or DEFAULT_BASE_URL,
        insecure, setting=BASE_URL_SETTING, example=DEFAULT_BASE_URL)
    if saved.get("base_url") and normalise_base_url(
            saved["base_url"], True, setting=BASE_URL_SETTING, example=DEFAULT_BASE_URL) != url:
        saved = {}  # written for another server: its tokens mean nothing here

    from_file: list[str] = []

    def pick(env_name: str, file_key: str) -> str | None:
        if not env.get(env_name) and saved.get(file_key):
            from_file.append(FILE_FIELD_NAMES[file_key])
        return env.get(env_name) or saved.get(file_key) or None

    token = pick("LEADGENIUS_TOKEN", "token")
    creds = Credentials(
        token=token,
        refresh_token=pick("LEADGENIUS_REFRESH_TOKEN", "refresh_token"),
        email=pick("LEADGENIUS_EMAIL", "email"),
        password=env.get("LEADGENIUS_PASSWORD") or None,
        api_key=pick("LEADGENIUS_API_KEY", "api_key"),
        user_id=pick("LEADGENIUS_USER_ID", "user_id"),
    )
    if tier is not None and rate is not None:
        raise ConfigError("give either --tier or --rate, not both")
    if tier is not None and tier not in TIERS:
        raise ConfigError(f"--tier must be one of {', '.join(TIERS)}, not {tier!r}")
    per_minute = parse_rate(rate) if rate is not None else TIERS[tier or DEFAULT_TIER]
    if concurrency is not None and concurrency < 1:
        raise ConfigError("--concurrency must be at least 1")
    if timeout is not None and not timeout > 0:
        raise ConfigError("--timeout must be a positive number of seconds")
    return Settings(
        base_url=url,
        credentials=creds,
        company_id=company_id or env.get("LEADGENIUS_COMPANY_ID") or None,
        auth_file=path,
        write_back=bool(saved) and not env.get("LEADGENIUS_TOKEN"),
        from_file=tuple(from_file),
        rate_per_minute=per_minute,
        concurrency=concurrency or 0,
        timeout=timeout or DEFAULT_TIMEOUT,
        insecure=insecure,
    )
