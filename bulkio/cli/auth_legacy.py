"""`bulkio auth login|status|logout --legacy`: the legacy enrichment API's key, saved in a
file of its own beside the Pro API's (its own base URL with it; 0600)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from ..errors import ConfigError
from ..http.redact import register_secret
from .exit import OK
from .legacy_options import legacy_settings


def _key(args: argparse.Namespace) -> str:
    if os.environ.get("LEADGENIUS_LEGACY_API_KEY"):
        return os.environ["LEADGENIUS_LEGACY_API_KEY"].strip()
    if args.password_stdin:
        return sys.stdin.readline().strip()
    if sys.stdin.isatty():
        return getpass.getpass("Legacy enrichment API key: ").strip()
    return ""


async def login(args: argparse.Namespace) -> int:
    """Check the key against the API (its usage), then save it with its base URL."""
    from ..enrichment.client import open_enrichment
    from ..enrichment.settings import auth_file, resolve_enrichment_settings, save_credentials

    key = _key(args)
    if not key:
        raise ConfigError("no key: set LEADGENIUS_LEGACY_API_KEY, use --password-stdin, or run "
                          "on a terminal to be asked")
    register_secret(key)
    settings = resolve_enrichment_settings(
        base_url=args.legacy_base_url, rate=args.legacy_rate, insecure=args.insecure,
        env={**os.environ, "LEADGENIUS_LEGACY_API_KEY": key})
    async with open_enrichment(settings) as api:
        usage = await api.usage()
    path = auth_file()
    save_credentials(path, settings)
    left = usage["current_period"].get("remaining")
    print(f"The legacy enrichment API at {settings.base_url} took the key; this period has "
          f"{left:,} records left." if isinstance(left, int) else
          f"The legacy enrichment API at {settings.base_url} took the key.")
    print(f"Saved to {path} (mode 0600).")
    return OK


async def status(args: argparse.Namespace) -> int:
    from ..enrichment.client import open_enrichment
    from ..enrichment.settings import auth_file

    settings = legacy_settings(args)
    saved = auth_file()
    print(f"{'server':<11}  {settings.base_url}")
    print(f"{'key file':<11}  {saved if saved.exists() else 'none'}")
    print(f"{'key':<11}  present ({_source(args)})")
    async with open_enrichment(settings) as api:
        period = (await api.usage())["current_period"]
    print(f"{'this period':<11}  {period.get('uploaded', 0):,} uploaded, "
          f"{period.get('enriched', 0):,} enriched, {period.get('remaining', 0):,} left")
    return OK


def _source(args: argparse.Namespace) -> str:
    if args.legacy_key_file:
        return f"from {args.legacy_key_file}"
    if os.environ.get("LEADGENIUS_LEGACY_API_KEY"):
        return "from LEADGENIUS_LEGACY_API_KEY"
    return "from the key file"


async def logout(args: argparse.Namespace) -> int:
    from ..enrichment.settings import auth_file

    path = auth_file()
    try:
        path.unlink()
    except FileNotFoundError:
        print(f"No saved legacy key at {path}.")
        return OK
    print(f"Deleted {path}.")
    return OK
