"""The legacy enrichment API's settings: its key, its base URL, its quota.

The key comes from `LEADGENIUS_LEGACY_API_KEY`, or a file named by `--legacy-key-file`; never
from a flag value. It is registered as a secret the moment it is read: no log line, error,
report or file bulkio writes holds it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ..errors import ConfigError
from ..http.quota import parse_rate
from ..http.redact import register_secret
from ..http.secret_files import read_secret_file, read_secret_json
from ..http.urls import normalise_base_url
from ..store.files import atomic_write

DEFAULT_URL = "https://leadgenius.com"
DEFAULT_RATE = 50  # requests a minute per key, as documented
NO_KEY = ("the legacy enrichment API needs its own key: set LEADGENIUS_LEGACY_API_KEY, pass "
          "--legacy-key-file PATH, or save it with `bulkio auth login --legacy`")
AUTH_FILE = "~/.leadgenius_legacy_auth.json"  # beside the Pro API's ~/.leadgenius_auth.json


@dataclass(frozen=True)
class EnrichmentSettings:
    base_url: str = DEFAULT_URL
    key: str = field(default="", repr=False)
    rate_per_minute: int | None = DEFAULT_RATE  # None: no client-side pacing
    timeout: float = 30.0


def resolve_enrichment_settings(*, base_url: str | None = None, key_file: str | None = None,
                                rate: str | None = None, insecure: bool = False,
                                env: Mapping[str, str] | None = None) -> EnrichmentSettings:
    """Settings from flag values (None when not given) and the environment; ConfigError in one
    line saying what to set."""
    env = os.environ if env is None else env
    saved = load_credentials(auth_file(env))
    key = (read_secret_file(Path(key_file), "legacy API key") if key_file
           else env.get("LEADGENIUS_LEGACY_API_KEY", "").strip() or saved.get("key", ""))
    if not key:
        raise ConfigError(NO_KEY)
    register_secret(key)
    # the saved address goes with the saved key only
    stored = saved.get("base_url") if key == saved.get("key") else None
    url = normalise_base_url(base_url or env.get("LEADGENIUS_LEGACY_BASE_URL") or stored
                             or DEFAULT_URL,
                             insecure, setting="--legacy-base-url or LEADGENIUS_LEGACY_BASE_URL",
                             example=DEFAULT_URL)
    return EnrichmentSettings(base_url=url, key=key, rate_per_minute=parse_rate(
        rate, default=DEFAULT_RATE, flag="--legacy-rate", per="a minute", hint="50 as documented"))


def auth_file(env: Mapping[str, str] | None = None) -> Path:
    """Where `bulkio auth login --legacy` saves the key: LEADGENIUS_LEGACY_AUTH_FILE, else
    ~/.leadgenius_legacy_auth.json."""
    env = os.environ if env is None else env
    return Path(env.get("LEADGENIUS_LEGACY_AUTH_FILE") or AUTH_FILE).expanduser()


def load_credentials(path: Path) -> dict[str, str]:
    """The saved key and its base URL ({} when nothing is saved); the file made private."""
    data = read_secret_json(path, "legacy credentials", "bulkio auth login --legacy")
    found = {k: v for k, v in data.items() if k in ("key", "base_url")}
    register_secret(found.get("key"))
    return found


def save_credentials(path: Path, settings: EnrichmentSettings) -> None:
    atomic_write(path, orjson.dumps({"key": settings.key, "base_url": settings.base_url},
                                    option=orjson.OPT_INDENT_2) + b"\n", mode=0o600)
