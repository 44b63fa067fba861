"""Options shared by the commands, defined once."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ..http.redact import RedactingFormatter, redact
from ..leadgenius.settings import TIERS, Settings, resolve_settings
from .shown import printable


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("connection (flags override LEADGENIUS_* variables and the auth file)")
    g.add_argument("--base-url", metavar="URL",
                   help="API base URL (env LEADGENIUS_BASE_URL; default https://last.leadgenius.app)")
    g.add_argument("--company-id", metavar="ID",
                   help="company id for the bulk endpoints (env LEADGENIUS_COMPANY_ID; "
                        "default: asked from GET /api/company)")
    g.add_argument("--auth-file", metavar="PATH",
                   help="saved credentials (env LEADGENIUS_AUTH_FILE; default ~/.leadgenius_auth.json)")
    g.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="give up on one HTTP request after this long (default 30)")
    g.add_argument("--insecure", action="store_true",
                   help="allow plain http:// to a host other than loopback")


def add_hubspot_options(parser: argparse.ArgumentParser, title: str) -> argparse._ArgumentGroup:
    """HubSpot's token, address and quota (`import hubspot:...`, `sync`): the group, for more."""
    g = parser.add_argument_group(
        f"{title} (the token: HUBSPOT_ACCESS_TOKEN, a private app with the scopes "
        "crm.objects.contacts.read and crm.objects.companies.read)")
    g.add_argument("--hubspot-token-file", metavar="PATH",
                   help="read the private-app token from this file instead")
    g.add_argument("--hubspot-base-url", metavar="URL",
                   help="HubSpot's API (env HUBSPOT_BASE_URL; default https://api.hubapi.com)")
    g.add_argument("--hubspot-rate", metavar="N",
                   help="HubSpot requests per 10 seconds: 100 (the default, Free/Starter) or 190 "
                        "(Professional/Enterprise); 'unlimited' for none")
    return g


def add_quota_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("quota and concurrency")
    rate = g.add_mutually_exclusive_group()
    rate.add_argument("--tier", choices=tuple(TIERS),
                      help="your plan's quota: standard (100/min, the default) or premium (1000/min)")
    rate.add_argument("--rate", metavar="N",
                      help="requests a minute for the whole run instead of a tier; 'unlimited' turns "
                           "client-side pacing off (the server's 429s are still obeyed)")
    g.add_argument("--concurrency", type=int, metavar="N",
                   help="requests in flight at once (default: enough to fill the quota at ~3 s "
                        "of latency)")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("output")
    g.add_argument("-v", "--verbose", action="count", default=0, help="more detail (-vv: debug)")
    g.add_argument("-q", "--quiet", action="store_true", help="errors only")
    g.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")


def add_job_options(parser: argparse.ArgumentParser, operation: str,
                    job_dir: str) -> argparse._ArgumentGroup:
    """--job-dir, --resume and --report, in a "files" group (returned for more)."""
    g = parser.add_argument_group("files")
    g.add_argument("--job-dir", type=Path, metavar="DIR",
                   help=f"the job's files and report (default: .bulkio/jobs/{job_dir})")
    g.add_argument("--resume", action="store_true",
                   help=f"continue this {operation} after a crash or Ctrl-C")
    g.add_argument("--report", type=Path, metavar="FILE.json",
                   help="where to write the JSON report (default: in the job directory)")
    return g


def settings_from_args(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    return resolve_settings(
        base_url=getattr(args, "base_url", None),
        company_id=getattr(args, "company_id", None),
        auth_file=getattr(args, "auth_file", None),
        tier=getattr(args, "tier", None),
        rate=getattr(args, "rate", None),
        concurrency=getattr(args, "concurrency", None),
        timeout=getattr(args, "timeout", None),
        insecure=getattr(args, "insecure", False),
        env=os.environ if env is None else env,
    )


class _OneLine(RedactingFormatter):
    """`bulkio: warning: ...`: one line (a traceback only with --debug's DEBUG records)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(f"bulkio: {record.levelname.lower()}: {printable(record.getMessage())}")


def configure_logging(args: argparse.Namespace) -> None:
    """One-line log messages on stderr, secrets redacted; the job's log file (ops.jobs.job_log)
    receives INFO and up whatever stderr shows."""
    if getattr(args, "quiet", False):
        level = logging.ERROR
    else:
        level = (logging.WARNING, logging.INFO)[min(getattr(args, "verbose", 0), 1)]
        if getattr(args, "verbose", 0) >= 2:
            level = logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(_OneLine())
    root = logging.getLogger("bulkio")
    root.handlers[:] = [handler]
    root.setLevel(min(level, logging.INFO))
    root.propagate = False
