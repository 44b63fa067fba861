"""`bulkio auth login|status|logout`: the saved-credentials file."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import ApiError, ConfigError, TransportError
from ..http.redact import register_secret
from ..leadgenius import jwt
from ..leadgenius.authfile import load_auth_file, save_auth_file, update_auth_file
from ..leadgenius.settings import Settings
from . import auth_legacy
from .exit import OK, USAGE
from .legacy_options import add_legacy_options

if TYPE_CHECKING:  # imported when the command runs: `bulkio --help` loads none of it
    from ..leadgenius.client import LeadGeniusClient
from .options import add_connection_options, add_output_options, settings_from_args


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    auth = commands.add_parser("auth", help="log in, and show who you are",
                               description="Manage the saved LeadGenius credentials.")
    sub = auth.add_subparsers(dest="auth_command", required=True, metavar="{login,status,logout}")

    login = sub.add_parser(
        "login", help="log in and save the tokens (mode 0600)",
        description="Log in with email and password and save the tokens to the auth file "
                    "(the password itself is never saved). The password comes from "
                    "LEADGENIUS_PASSWORD, --password-stdin, or a hidden prompt.")
    login.add_argument("--email", help="your login (default: LEADGENIUS_EMAIL, else asked)")
    login.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")
    key = login.add_mutually_exclusive_group()
    key.add_argument("--api-key", action="store_true",
                     help="also save an API key you already have (exports need one), read "
                          "from LEADGENIUS_API_KEY or a hidden prompt")
    key.add_argument("--create-api-key", nargs="?", const="", metavar="NAME",
                     help="make a new API key on the account and save it (default name: "
                          "'bulkio on' and this machine's name); without this flag, login "
                          "offers it on a terminal when no key is saved")
    add_legacy_flag(login, "save the legacy enrichment API's key instead (from "
                           "LEADGENIUS_LEGACY_API_KEY, --password-stdin or a hidden prompt), "
                           "checked against the API first")
    add_connection_options(login)
    add_output_options(login)
    login.set_defaults(handler=run_login)

    status = sub.add_parser("status", help="show who you are and when the token expires",
                            description="Show the account, the token's expiry and which "
                                        "credentials are available; never the secrets.")
    status.add_argument("--offline", action="store_true",
                        help="do not ask the API who you are; only read the local credentials")
    add_legacy_flag(status, "the legacy enrichment API's key and this period's usage")
    add_connection_options(status)
    add_output_options(status)
    status.set_defaults(handler=run_status)

    logout = sub.add_parser("logout", help="delete the saved credentials",
                            description="Delete the auth file.")
    add_legacy_flag(logout, "delete the saved legacy enrichment API key instead")
    add_connection_options(logout)
    add_output_options(logout)
    logout.set_defaults(handler=run_logout)


def add_legacy_flag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--legacy", action="store_true", help=what)
    add_legacy_options(parser, insecure=False)


def _ask(prompt: str, secret: bool) -> str:
    if not sys.stdin.isatty():
        return ""
    return getpass.getpass(prompt) if secret else input(prompt)


async def run_login(args: argparse.Namespace) -> int:
    if args.legacy:
        return await auth_legacy.login(args)
    settings = settings_from_args(args)
    email = args.email or settings.credentials.email or _ask("Email: ", secret=False).strip()
    if not email:
        raise ConfigError("no email: pass --email or set LEADGENIUS_EMAIL")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = os.environ.get("LEADGENIUS_PASSWORD") or _ask("Password: ", secret=True)
    if not password:
        raise ConfigError("no password: set LEADGENIUS_PASSWORD, use --password-stdin, "
                          "or run on a terminal to be asked")
    register_secret(password)
    api_key = None
    if args.api_key:
        api_key = os.environ.get("LEADGENIUS_API_KEY") or _ask("API key: ", secret=True).strip()
        if not api_key:
            raise ConfigError("--api-key: set LEADGENIUS_API_KEY or run on a terminal to be asked")
        register_secret(api_key)
    from ..leadgenius.client import open_client  # the HTTP client: only when it is used

    previous = load_auth_file(settings.auth_file)
    same_server = previous.get("base_url", "").rstrip("/") == settings.base_url
    api_key = api_key or (previous.get("api_key", "") if same_server else "")
    async with open_client(settings) as client:
        tokens = await client.auth.login(email, password)
        token = str(tokens["accessToken"])
        register_secret(token, tokens.get("refreshToken"), tokens.get("idToken"))
        save_auth_file(settings.auth_file, {
            "token": token, "id_token": tokens.get("idToken") or "",
            "refresh_token": tokens.get("refreshToken") or "", "email": email,
            "user_id": jwt.subject(token) or "", "base_url": settings.base_url,
            "api_key": api_key or ""})
        print(f"Logged in as {email} at {settings.base_url}; token {_expiry(token)}.")
        print(f"Saved to {settings.auth_file} (mode 0600).")
        asked = args.create_api_key  # None: not asked; "": the default name
        if asked is not None or not (api_key or settings.credentials.api_key):
            client.auth.accept(tokens)
            created = await _offer_api_key(
                client, None if asked is None else asked or default_key_name())
            if created:
                update_auth_file(settings.auth_file, {"api_key": created})
                print(f"Saved the key to {settings.auth_file}; it is not shown anywhere else.")
    return OK


def default_key_name() -> str:
    return f"bulkio on {socket.gethostname()}"


async def _offer_api_key(client: LeadGeniusClient, name: str | None) -> str:
    """Make an API key when asked (--create-api-key), or when the person at the terminal
    agrees; else say how. The bulk list endpoints (exports; cheaper listings) need one."""
    if name is None:
        keys = await client.list_api_keys()
        have = (f"The account has {len(keys)} API key(s), but none is saved here (a key is "
                "shown only when it is made)" if keys else "The account has no API key")
        need = "exports need one, and it lists leads 5,000 a request instead of 1,000"
        if not sys.stdin.isatty():
            print(f"{have}; {need}: `bulkio auth login --create-api-key` makes one.")
            return ""
        reply = _ask(f"{have}; {need}. Make one named {default_key_name()!r}? [Y/n] ",
                     secret=False).strip().lower()
        if reply not in ("", "y", "yes"):
            print("No key made; `bulkio auth login --create-api-key` makes one later.")
            return ""
        name = default_key_name()
    made = await client.create_api_key(name, "made by bulkio auth login")
    print(f"Made API key {made.get('name', name)!r} (id {made.get('id', '?')}).")
    return str(made["apiKey"])


async def run_status(args: argparse.Namespace) -> int:
    if args.legacy:
        return await auth_legacy.status(args)
    settings = settings_from_args(args)
    creds = settings.credentials
    if not (creds.can_use_jwt or creds.has_api_key):
        raise ConfigError("not logged in: run `bulkio auth login`, or set LEADGENIUS_EMAIL and "
                          "LEADGENIUS_PASSWORD (or LEADGENIUS_API_KEY and LEADGENIUS_USER_ID)")
    rows = [("server", settings.base_url),
            ("auth file", f"{settings.auth_file} ({_file_use(settings)})"),
            ("email", creds.email or "-"),
            ("user id", creds.user_id or (jwt.subject(creds.token) if creds.token else None) or "-"),
            ("access token", _expiry(creds.token) if creds.token else "none"),
            ("refresh token", "present" if creds.refresh_token else "none"),
            ("password", "from LEADGENIUS_PASSWORD" if creds.password else "not set"),
            ("API key", "present" if creds.has_api_key else
             ("present, but no user id" if creds.api_key else "none"))]
    code = OK
    if not args.offline:
        company, code = await _whoami(settings)
        rows.append(("company", company))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return code


def _file_use(settings: Settings) -> str:
    """What the run takes from the auth file, and whether renewed tokens go back into it."""
    if not settings.from_file:
        return "not used" if settings.auth_file.exists() else "none"
    back = ("renewed tokens are written back" if settings.write_back
            else "renewed tokens are not written back: LEADGENIUS_TOKEN is set")
    return f"used for: {', '.join(settings.from_file)}; {back}"


async def _whoami(settings: Settings) -> tuple[str, int]:
    """The company the credentials reach, asked from the API (renewing the token if needed)."""
    from ..leadgenius.client import open_client  # the HTTP client: only when it is used

    async with open_client(settings) as client:
        try:
            company = await client.get_company()
        except (ApiError, TransportError) as exc:
            return f"unreachable: {exc}", USAGE
    return f"{company.get('companyName', '?')} ({company.get('company_id', '?')})", OK


async def run_logout(args: argparse.Namespace) -> int:
    if args.legacy:
        return await auth_legacy.logout(args)
    settings = settings_from_args(args)
    try:
        settings.auth_file.unlink()
    except FileNotFoundError:
        print(f"No saved credentials at {settings.auth_file}.")
        return OK
    print(f"Deleted {settings.auth_file}.")
    return OK


def _expiry(token: str) -> str:
    exp = jwt.expires_at(token)
    if exp is None:
        return "present (expiry unknown)"
    when = datetime.fromtimestamp(exp).strftime("%Y-%m-%d %H:%M:%S")
    left = exp - time.time()
    if left > 0:
        return f"valid until {when} (in {_duration(left)})"
    return f"expired at {when} ({_duration(-left)} ago; renewed on next use when possible)"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"
