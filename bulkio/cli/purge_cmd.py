"""`bulkio purge`: the handler is thin; bulkio.api.purge_client does the work."""

from __future__ import annotations

import argparse
import sys

import anyio

from ..errors import ConfigError
from ..models import Client
from ..ops.purge.job import PurgeOptions
from .exit import OK, PROBLEMS
from .options import (
    add_connection_options,
    add_job_options,
    add_output_options,
    add_quota_options,
    settings_from_args,
)
from .progress import PurgeDisplay, print_purge_plan, print_purge_summary
from .running import run_operation
from .shown import printable


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "purge", help="delete every lead of a client (50 a request, verified)",
        description="List the client's leads, delete them in concurrent batches of 50 under the "
                    "quota, list again, and repeat until none is left or a round deletes "
                    "nothing. Asks you to type the client's slug unless --yes. Exit codes: 0 "
                    "the client is empty, 1 leads remain (see the report), 2 usage, "
                    "configuration or not confirmed, 130 interrupted (resumable).")
    p.add_argument("--client", required=True, metavar="SLUG",
                   help="the client's slug (client_id); a UUID is translated, with a warning")
    p.add_argument("--delete-client", action="store_true", default=None,
                   help="then delete the client record itself, once no lead is left")
    p.add_argument("--yes", action="store_true",
                   help="do not ask for confirmation (needed when not on a terminal)")
    p.add_argument("--dry-run", action="store_true",
                   help="count the leads and say how many requests and how long; delete nothing")
    add_job_options(p, "purge", "purge-<slug>-...")
    add_connection_options(p)
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    from ..api import dry_run_purge, purge_client

    settings = settings_from_args(args)
    if args.dry_run:
        print_purge_plan(await dry_run_purge(args.client, settings=settings, report=args.report))
        return OK
    if not args.yes and not sys.stdin.isatty():
        raise ConfigError(f"refusing to purge {args.client} without confirmation: there is no "
                          "terminal to ask on; add --yes")
    display = PurgeDisplay(quiet=args.quiet)

    async def confirm(client: Client, leads: int) -> bool:
        then = ", then the client record itself" if args.delete_client else ""
        question = (f"About to delete {leads:,} leads of {client.name!r} (slug {client.slug}, "
                    f"id {client.id}){then}. Type the slug to confirm: ")
        with display.held():
            answer = await anyio.to_thread.run_sync(lambda: input(printable(question)))
        return answer.strip() == client.slug

    options = PurgeOptions(delete_client=bool(args.delete_client), resume=args.resume,
                           given=frozenset({"delete_client"} if args.delete_client else set()),
                           report=args.report, job_dir=args.job_dir)
    report = await run_operation(
        args, display, purge_client(args.client, settings=settings, options=options,
                                    confirm=None if args.yes else confirm,
                                    on_progress=display.update),
        what="purge", resumable=lambda _: display.last is not None and display.last.found is not None)
    if not args.quiet:
        print_purge_summary(report)
    return OK if report.ok else PROBLEMS
