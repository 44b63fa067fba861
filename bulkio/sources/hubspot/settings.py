"""HubSpot settings for one run: the private-app token, the base URL, the quota.

The token comes from `HUBSPOT_ACCESS_TOKEN`, or a file named by `--hubspot-token-file`; never
from a flag value (flags show in `ps` and in shell history). It is registered as a secret the
moment it is read, so no log line, error, report or file bulkio writes ever holds it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ConfigError
from ...http.quota import parse_rate
from ...http.redact import register_secret
from ...http.secret_files import read_secret_file
from ...http.urls import normalise_base_url

log = logging.getLogger("bulkio.hubspot")

DEFAULT_HUBSPOT_URL = "https://api.hubapi.com"
DEFAULT_RATE = 100  # requests per 10 s: the Free/Starter private-app limit
DEFAULT_SEARCH_RATE = 4  # CRM search requests a second: under its documented 5
SCOPES = ("crm.objects.contacts.read", "crm.objects.companies.read")
NO_TOKEN = ("HubSpot needs a private-app access token: set HUBSPOT_ACCESS_TOKEN, or pass "
            f"--hubspot-token-file PATH (the app needs the scopes {', '.join(SCOPES)})")


@dataclass(frozen=True)
class HubSpotSettings:
    base_url: str = DEFAULT_HUBSPOT_URL
    token: str = field(default="", repr=False)
    rate_per_10s: int | None = DEFAULT_RATE  # None: no client-side pacing
    timeout: float = 30.0
    search_rate_per_s: int | None = DEFAULT_SEARCH_RATE  # the CRM search's own limit


def resolve_hubspot_settings(*, base_url: str | None = None, token_file: str | None = None,
                             rate: str | None = None, search_rate: str | None = None,
                             timeout: float | None = None,
                             insecure: bool = False, env: Mapping[str, str] | None = None
                             ) -> HubSpotSettings:
    """Settings from flag values (None when not given) and the environment; ConfigError in one
    line saying what to set."""
    env = os.environ if env is None else env
    token = (read_secret_file(Path(token_file), "HubSpot token") if token_file
             else env.get("HUBSPOT_ACCESS_TOKEN", ""))
    token = token.strip()
    if not token:
        raise ConfigError(NO_TOKEN)
    register_secret(token)
    url = normalise_base_url(base_url or env.get("HUBSPOT_BASE_URL") or DEFAULT_HUBSPOT_URL,
                             insecure, setting="--hubspot-base-url or HUBSPOT_BASE_URL",
                             example=DEFAULT_HUBSPOT_URL)
    return HubSpotSettings(
        base_url=url, token=token, rate_per_10s=parse_hubspot_rate(rate), timeout=timeout or 30.0,
        search_rate_per_s=parse_rate(search_rate, default=DEFAULT_SEARCH_RATE,
                                     flag="--hubspot-search-rate", per="a second",
                                     hint="4, under the search's documented 5"))


def parse_hubspot_rate(text: str | None) -> int | None:
    """`--hubspot-rate`: requests per 10 seconds, or `unlimited`."""
    return parse_rate(text, default=DEFAULT_RATE, flag="--hubspot-rate", per="per 10 seconds",
                      hint="100, or 190 for Professional/Enterprise")
