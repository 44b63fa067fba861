"""`bulkio serve`: the import job service and its web page."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..http.urls import is_loopback
from ..service.access import check_data_dir, load_or_create_token
from .exit import OK
from .legacy_options import add_legacy_options, legacy_settings
from .options import add_connection_options, add_output_options, add_quota_options, settings_from_args

if TYPE_CHECKING:
    from ..enrichment.settings import EnrichmentSettings

log = logging.getLogger("bulkio.service")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "serve", help="the lead import job service (the LeadVibe import API) and its web page",
        description="Serve the LeadVibe lead import API (preview, start, jobs, cancel), "
                    "exports and purges as jobs, and a web page on top, acting as the "
                    "LeadGenius identity of your settings. Once listening it prints one JSON "
                    "line on stdout: url, and the service's own bearer token at the first "
                    "start (when it is made), or token_file at later starts (the file in the "
                    "data directory, 0600, that holds it; --print-token prints it); then it "
                    "logs to stderr. SIGINT/SIGTERM stop it; a running job resumes at the "
                    "next start.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8080,
                   help="port; 0 takes any free port (default: %(default)s)")
    p.add_argument("--public", action="store_true",
                   help="allow a --host that is not loopback (anyone who can reach it and has "
                        "the token acts as your LeadGenius identity)")
    p.add_argument("--data-dir", type=Path, default=Path(".bulkio") / "service", metavar="DIR",
                   help="token, jobs and uploads (default: %(default)s)")
    p.add_argument("--max-upload-mb", type=int, default=512, metavar="MB",
                   help="largest CSV accepted by the preview, received as it streams to disk "
                        "(default: 512, as HubSpot's imports)")
    p.add_argument("--settle", type=float, default=30.0, metavar="SECONDS",
                   help="for every import job: the server's own timeout (default: 30)")
    p.add_argument("--keep-days", type=float, default=30.0, metavar="N",
                   help="delete uploads, job inputs and finished jobs' files N days after they "
                        "were made or ended; the job history keeps their counts (default: 30; "
                        "0 keeps everything)")
    p.add_argument("--notify-allow", action="append", default=[], metavar="HOST",
                   help="a host jobs may notify when they end (a webhook URL given with the "
                        "job, e.g. hooks.slack.com); repeat for more; none by default")
    p.add_argument("--public-url", metavar="URL",
                   help="the page's address in notifications' links (default: where it "
                        "listens)")
    p.add_argument("--print-token", action="store_true",
                   help="print the service token (making it if there is none) and exit")
    p.add_argument("--poll-every", type=float, default=600.0, metavar="SECONDS",
                   help="enrichment campaigns: how often to ask for finalized records no "
                        "webhook announced, while any is not finalized (default: 600)")
    add_legacy_options(p, insecure=False)
    add_connection_options(p)
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    check_data_dir(args.data_dir)
    if args.print_token:
        token, _ = load_or_create_token(args.data_dir)
        print(token)
        return OK
    if not is_loopback(args.host):
        if not args.public:
            raise ConfigError(f"--host {args.host} is not loopback: add --public to serve "
                              "beyond this machine (and put TLS in front of it)")
        log.warning("serving on %s: anyone who reaches it with the token acts as your "
                    "LeadGenius identity", args.host)
    if not 1 <= args.max_upload_mb <= 4096:
        raise ConfigError("--max-upload-mb is 1 to 4096")
    from ..service.server import serve  # only this command needs the service

    await serve(settings_from_args(args), args.data_dir, host=args.host, port=args.port,
                max_upload_mb=args.max_upload_mb, settle_s=max(0.0, args.settle),
                keep_days=max(0.0, args.keep_days), notify_allow=args.notify_allow,
                public_url=args.public_url, legacy=_legacy(args),
                poll_every=max(1.0, args.poll_every))
    return OK


def _legacy(args: argparse.Namespace) -> EnrichmentSettings | None:
    """The legacy enrichment API's settings when a key is given: campaigns' webhooks on."""
    if not (args.legacy_key_file or os.environ.get("LEADGENIUS_LEGACY_API_KEY")):
        return None
    return legacy_settings(args)
