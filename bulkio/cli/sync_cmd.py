"""`bulkio sync hubspot:contacts`: a client kept in step with a HubSpot portal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..errors import AuthError, ConfigError, Interrupted
from .exit import OK, PROBLEMS, exit_code_for
from .options import (
    add_connection_options,
    add_hubspot_options,
    add_output_options,
    add_quota_options,
    settings_from_args,
)
from .running import resume_command

if TYPE_CHECKING:
    from ..ops.sync.job import SyncOptions, SyncReport
    from .progress import ImportDisplay

SOURCES = ("hubspot:contacts",)


def duration(text: str) -> float:
    """`90`, `90s`, `10m`, `1h`, `1d` in seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    factor = units.get(value[-1:], 0)
    number = value[:-1] if factor else value
    try:
        seconds = float(number) * (factor or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (90s, 10m, 1h)") from None
    if seconds < 0:
        raise argparse.ArgumentTypeError("a duration cannot be negative")
    return seconds


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "sync", help="keep a client in step with HubSpot's contacts, change by change",
        description="The first run imports the whole portal (as import hubspot:contacts); each "
                    "later run sends only what changed since the last one: new and edited "
                    "contacts (a PUT of the fields that changed), archived and merged ones "
                    "(--archived). Changes are read past HubSpot search's 10,000-result limit; "
                    "the state directory keeps the mark and each contact's lead. Exit codes: 0 "
                    "done, 1 some contacts rejected or failed (see the run's rejects; the failed "
                    "ones are tried again by the next run), 2 usage "
                    "or configuration (another sync of the same state running), 75 HubSpot or "
                    "LeadGenius unavailable (the next run continues), 130 interrupted.")
    p.add_argument("source", choices=SOURCES, help="what to keep in step: hubspot:contacts")
    p.add_argument("--client", metavar="SLUG", required=True, help="the client's slug")
    g = p.add_argument_group("the sync")
    g.add_argument("--state-dir", type=Path, metavar="DIR",
                   help="where the mark and each contact's lead are kept (default: one per "
                        "client under $BULKIO_STATE_DIR or ~/.local/state/bulkio/sync)")
    g.add_argument("--lookback", type=duration, metavar="DURATION",
                   help="read changes from this long before the mark, for HubSpot search's "
                        "lag (default: 10m)")
    g.add_argument("--archived", choices=("keep", "note", "delete"),
                   help="contacts archived (or merged into another) in HubSpot: keep their lead "
                        "(default; counted and listed), note it on the lead, or delete the lead")
    g.add_argument("--clear-emptied", action="store_true", default=None,
                   help="a field emptied in HubSpot is emptied on the lead (by default the lead "
                        "keeps its value)")
    g.add_argument("--every", type=duration, metavar="DURATION",
                   help="run again every DURATION (15m, 1h) until interrupted; a failed run is "
                        "reported and the next one still comes")
    g.add_argument("--on-duplicate", choices=("skip", "update", "create"), default=None,
                   help="first run: an email the client already has: update that lead and "
                        "keep it in step (default), skip it, or create another lead")
    g.add_argument("--resume", action="store_true",
                   help="continue the run that was interrupted (any run does; this says so)")
    g.add_argument("--dry-run", action="store_true",
                   help="read what changed since the last run and say what a run would send "
                        "(on a copy of the state); send nothing")
    g.add_argument("--report", type=Path, metavar="FILE", help="also write each run's report here")
    g.add_argument("--settle", type=float, default=30.0, metavar="SECONDS",
                   help="new leads: after a lost answer, wait this long before looking the lead "
                        "up (default: 30)")
    g = p.add_argument_group("mapping")
    g.add_argument("--mapping", metavar="FILE.json",
                   help="HubSpot property -> lead field overrides (fixed for the state)")
    g.add_argument("--unmapped", choices=("drop", "notes"),
                   help="properties that map to no field: to notes (default) or dropped")
    g.add_argument("--properties", metavar="a,b",
                   help="more contact properties to read (to notes, unless --mapping maps them)")
    g.add_argument("--company-properties", metavar="a,b",
                   help="more company properties to read (as company.<name>)")
    g = add_hubspot_options(p, "HubSpot")
    g.add_argument("--hubspot-search-rate", metavar="N",
                   help="CRM search requests a second (default 4, under HubSpot's 5)")
    add_connection_options(p)
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run)


def options_from_args(args: argparse.Namespace) -> SyncOptions:
    from ..ops.sync.job import SyncOptions
    from ..sources.hubspot.source import HubSpotOptions, split_names

    flags = {"mapping": args.mapping, "unmapped_to_notes": args.unmapped,
             "properties": args.properties, "company_properties": args.company_properties,
             "archived": args.archived, "clear_emptied": args.clear_emptied,
             "lookback_s": args.lookback, "on_duplicate": args.on_duplicate}
    given = {name for name, value in flags.items() if value is not None}
    d = SyncOptions()
    return SyncOptions(
        client=args.client, state_dir=args.state_dir,
        lookback_s=d.lookback_s if args.lookback is None else args.lookback,
        archived=args.archived or d.archived, clear_emptied=bool(args.clear_emptied),
        on_duplicate=args.on_duplicate or d.on_duplicate, mapping=args.mapping,
        unmapped_to_notes=None if args.unmapped is None else args.unmapped == "notes",
        hubspot=HubSpotOptions(properties=split_names(args.properties),
                               company_properties=split_names(args.company_properties)),
        resume=args.resume, dry_run=args.dry_run, report=args.report, settle_s=args.settle,
        given=frozenset(given))


def say(quiet: bool, display: ImportDisplay) -> Callable[[str], None]:
    """Each phase in a line (the live display of an import under way closed first)."""
    def phase(text: str) -> None:
        if not quiet:
            display.close()
            print(f"bulkio: {text}", file=sys.stderr, flush=True)
    return phase


async def run(args: argparse.Namespace) -> int:
    from ..api.sync import sync_contacts
    from ..sources.hubspot.settings import resolve_hubspot_settings
    from .progress import ImportDisplay

    if args.every is not None and args.every <= 0:
        raise ConfigError("--every takes a duration above zero (15m, 1h)")
    options = options_from_args(args)
    settings = settings_from_args(args)
    hubspot = resolve_hubspot_settings(base_url=args.hubspot_base_url,
                                       token_file=args.hubspot_token_file, rate=args.hubspot_rate,
                                       search_rate=args.hubspot_search_rate,
                                       timeout=args.timeout, insecure=args.insecure)
    code = OK
    while True:
        display = ImportDisplay(quiet=args.quiet)
        try:
            report = await sync_contacts(args.client, settings=settings, hubspot=hubspot,
                                         options=options, on_phase=say(args.quiet, display),
                                         on_progress=display.update)
        except (ConfigError, AuthError, KeyboardInterrupt, anyio.get_cancelled_exc_class()):
            display.close()  # fixed first (or the user stops): the next run would not do better
            raise
        except Exception as error:
            display.close()
            if args.every is None:
                if isinstance(error, Interrupted):
                    print(f"bulkio: the next run continues it: {resume_command(args)}",
                          file=sys.stderr)
                raise
            code = exit_code_for(error)  # said in one line; the next run still comes
        else:
            display.close()
            print_sync_summary(report, args.quiet)
            code = OK if report.ok else PROBLEMS
        if args.every is None:
            return code
        options = _next_run(options)
        await anyio.sleep(args.every)


def _next_run(options: SyncOptions) -> SyncOptions:
    from dataclasses import replace
    return replace(options, resume=False)


def print_sync_summary(report: SyncReport, quiet: bool) -> None:
    if quiet:
        return
    if report.status == "dry_run":
        print_dry_run(report)
        return
    what = "(first run) read" if report.first_run else "changed"
    if report.carried:
        what += f" or tried again ({report.carried:,} failed in the run before)"
    lines = [
        f"run {report.run}: {report.seen:,} contacts {what}: {report.created:,} created, "
        f"{report.updated:,} updated, {report.unchanged:,} unchanged, {report.rejected:,} "
        f"rejected, {report.failed:,} failed",
        f"archived: {report.archived:,}, merged: {report.merged:,} (--archived "
        f"{report.archived_action})",
        f"requests: {report.hubspot_requests:,} to HubSpot ({report.archived_list_requests:,} "
        f"listing the archived contacts), {report.leadgenius_requests:,} to LeadGenius",
        f"mark: {report.mark} (was {report.previous_mark or 'none: the first run'})",
        f"state: {report.state_dir}",
    ]
    if report.listed_path:
        lines.append(f"archived and merged contacts handled: {report.listed_path}")
    if report.rejects_path:
        lines.append(f"rejected and failed contacts, with the reason: {report.rejects_path}")
    print("\n".join(lines))


def print_dry_run(report: SyncReport) -> None:
    if report.first_run:
        print("\n".join(report.notices))
        return
    print("\n".join([
        f"dry run of run {report.run}: {report.seen:,} contacts changed since {report.previous_mark}"
        + (f", or tried again ({report.carried:,} failed in the run before)"
           if report.carried else ""),
        f"would create {report.created:,}, update {report.updated:,}, leave {report.unchanged:,} "
        f"unchanged, reject {report.rejected:,}",
        f"archived: {report.archived:,}, merged: {report.merged:,} (--archived "
        f"{report.archived_action})",
        f"reading took {report.hubspot_requests:,} HubSpot requests; nothing was sent"]))
