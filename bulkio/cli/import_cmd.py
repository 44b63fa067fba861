"""`bulkio import`: the handler is thin; bulkio.api.import_leads does the work."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from ..errors import ConfigError
from ..ops.imports.batch import MAX_BATCH, STRATEGIES
from .exit import OK, PROBLEMS
from .options import (
    add_connection_options,
    add_hubspot_options,
    add_job_options,
    add_output_options,
    add_quota_options,
    settings_from_args,
)
from .running import run_operation

if TYPE_CHECKING:  # imported when the command runs: `bulkio --help` loads none of it
    from ..ops.imports.job import ImportOptions
    from ..sources.hubspot.settings import HubSpotSettings


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "import", help="import a CSV or NDJSON file, or HubSpot's contacts, into a client",
        description="Stream a CSV or NDJSON file (optionally .gz) into single-lead POSTs at the "
                    "full quota. Every row ends created, updated, skipped as a duplicate, "
                    "rejected or failed; nothing is lost and nothing is sent twice, across "
                    "retries, crashes and --resume. What bulkio decides for you (the encoding, "
                    "a padded row, a quote kept as typed, a second column) is said once at the "
                    "end and in --dry-run. Exit codes: 0 all rows done, 1 some rejected or "
                    "failed, 2 usage or configuration (a file that is not text is refused), "
                    "130 interrupted (resumable).")
    p.add_argument("source", help="a .csv, .ndjson or .jsonl file, optionally .gz; - for stdin; "
                                  "or hubspot:contacts (CRM v3 contacts with their companies) or "
                                  "hubspot:leads-v1 (the legacy leads list)")
    target = p.add_argument_group("target (one of)")
    target.add_argument("--client", metavar="SLUG",
                        help="the client's slug (client_id); a UUID is translated, with a warning")
    target.add_argument("--create-client", metavar="NAME",
                        help="create a client with this name first and import into it")
    g = p.add_argument_group("input")
    g.add_argument("--format", choices=("csv", "ndjson"), help="needed for stdin; else from the name")
    g.add_argument("--encoding",
                   help="CSV encoding, honoured as given (a line it cannot decode is rejected); "
                        "default: detected (UTF-8, Windows-1252 line by line, UTF-16/32)")
    g.add_argument("--mapping", metavar="FILE.json",
                   help='column -> lead field overrides, e.g. {"Cell": "phoneNumber", "Fax": null, '
                        '"#4": "email"} ("#4": the 4th column, whatever its name)')
    g.add_argument("--unmapped", choices=("drop", "notes"),
                   help="columns that map to no field, and second values of a filled field "
                        "(Email 2): drop them or append them to notes (default: drop for a "
                        "file; notes for HubSpot, as its import guide does)")
    g.add_argument("--allow-no-email", action="store_true", default=None,
                   help="import rows without an email (they cannot be checked for duplicates)")
    g = p.add_argument_group("behaviour")
    g.add_argument("--on-duplicate", choices=("skip", "update", "create"),
                   help="an email the client already has: skip the row (default), update the lead "
                        "with the row's non-empty values, or create another lead")
    g.add_argument("--dry-run", action="store_true",
                   help="show the mapping, the first payloads and the counts; send nothing")
    g.add_argument("--no-verify", action="store_true", default=None,
                   help="skip the final check that every created lead is listed in the client")
    g.add_argument("--settle", type=float, default=30.0, metavar="SECONDS",
                   help="after a lost answer, wait this long (the server's own timeout) before "
                        "looking the row up (default: 30)")
    g = p.add_argument_group("sending (see 'Faster than one request per lead' in the docs)")
    g.add_argument("--strategy", choices=STRATEGIES,
                   help="single: one lead a request, as LeadGenius's documentation does it "
                        "(default); batch: 50 leads "
                        "a request, each lead believed only once the client's listing shows it, "
                        "the missing ones sent again; auto: batches while the listings show "
                        "them stored, single leads when they are not")
    g.add_argument("--batch-size", type=batch_size, metavar="N",
                   help=f"leads a batch request (1-{MAX_BATCH}, default {MAX_BATCH})")
    g.add_argument("--validate-emails", action="store_true", default=None,
                   help="before sending anything, check every distinct address (POST "
                        "/api/email-validate, a request each) and reject the rows the checker "
                        "calls invalid, with its reason (a file source)")
    g.add_argument("--deep", action="store_true", default=None,
                   help="with --validate-emails: verify deliverability (email-verify) instead; "
                        "undeliverable rows are rejected")
    g = add_hubspot_options(p, "HubSpot source")
    g.add_argument("--properties", metavar="a,b",
                   help="more contact properties to read (to notes, unless --mapping maps them)")
    g.add_argument("--company-properties", metavar="a,b",
                   help="more company properties to read (as company.<name>)")
    g.add_argument("--since", metavar="DATE",
                   help="hubspot:leads-v1: leads inserted from this ISO date or time on")
    g.add_argument("--until", metavar="DATE",
                   help="hubspot:leads-v1: leads inserted up to this ISO date or time")
    g = add_job_options(p, "import", "import-<client>-...")
    g.add_argument("--rejects", type=Path, metavar="FILE",
                   help="where to write rejected and failed rows (default: in the job directory)")
    g.add_argument("--csv-raw", action="store_true",
                   help="write the rejects file's cells that start with = + - @ tab or CR as "
                        "they are (by default they are prefixed with ' so a spreadsheet shows "
                        "them as text, not as a formula to run; importing the file again "
                        "removes that ')")
    add_connection_options(p)
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run)


def batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_BATCH:
        raise argparse.ArgumentTypeError(f"a batch holds 1 to {MAX_BATCH} leads, not {text!r}")
    return value


HUBSPOT_FLAGS = {"--hubspot-token-file": "hubspot_token_file", "--hubspot-base-url": "hubspot_base_url",
                 "--hubspot-rate": "hubspot_rate", "--properties": "properties",
                 "--company-properties": "company_properties", "--since": "since",
                 "--until": "until"}


def options_from_args(args: argparse.Namespace) -> ImportOptions:
    """The import's options. Those that decide what is sent and how rows are judged are left
    to the job on --resume when not given (see ops.rules): `given` says which were."""
    from ..ops.imports.job import ImportOptions
    from ..sources.hubspot.source import HubSpotOptions, split_names

    flags = {"mapping": args.mapping, "on_duplicate": args.on_duplicate,
             "unmapped_to_notes": args.unmapped, "strategy": args.strategy,
             "batch_size": args.batch_size, "allow_no_email": args.allow_no_email,
             "check_emails": args.validate_emails, "encoding": args.encoding,
             "format": args.format, "verify": args.no_verify}
    return ImportOptions(
        client=args.client, create_client=args.create_client, mapping=args.mapping,
        on_duplicate=args.on_duplicate or "skip", rejects=args.rejects, csv_raw=args.csv_raw,
        report=args.report,
        job_dir=args.job_dir, resume=args.resume, verify=not args.no_verify,
        allow_no_email=bool(args.allow_no_email),
        unmapped_to_notes=None if args.unmapped is None else args.unmapped == "notes",
        format=args.format, encoding=args.encoding, settle_s=max(0.0, args.settle),
        strategy=args.strategy or "single", batch_size=args.batch_size or MAX_BATCH,
        check_emails=("deep" if args.deep else "validate") if args.validate_emails else None,
        stdin=sys.stdin.buffer if args.source == "-" else None,
        hubspot=HubSpotOptions(properties=split_names(args.properties),
                               company_properties=split_names(args.company_properties),
                               since=args.since, until=args.until),
        given=frozenset(name for name, value in flags.items() if value is not None))


def hubspot_settings(args: argparse.Namespace) -> HubSpotSettings | None:
    """HubSpot's settings for a hubspot: source (an unknown kind fails here, exit 2); and a
    HubSpot flag given with a file is a usage error."""
    from ..sources.hubspot.settings import resolve_hubspot_settings
    from ..sources.hubspot.source import hubspot_kind

    kind = hubspot_kind(args.source)
    if kind is None:
        given = [flag for flag, value in HUBSPOT_FLAGS.items() if getattr(args, value)]
        if given:
            raise ConfigError(f"{', '.join(given)} apply to a hubspot: source, not to "
                              f"{args.source}")
        return None
    if args.format or args.encoding:
        raise ConfigError("--format and --encoding apply to files, not to a hubspot: source")
    if kind != "leads-v1" and (args.since or args.until):
        raise ConfigError("--since and --until apply to hubspot:leads-v1")
    if kind != "contacts" and (args.properties or args.company_properties):
        raise ConfigError("--properties and --company-properties apply to hubspot:contacts")
    return resolve_hubspot_settings(base_url=args.hubspot_base_url,
                                    token_file=args.hubspot_token_file, rate=args.hubspot_rate,
                                    timeout=args.timeout, insecure=args.insecure)


async def run(args: argparse.Namespace) -> int:
    from ..api import dry_run, import_leads
    from .progress import ImportDisplay, print_dry_run, print_summary

    if args.deep and not args.validate_emails:
        raise ConfigError("--deep goes with --validate-emails (it says how to check them)")
    options = options_from_args(args)
    settings = settings_from_args(args)
    hubspot = hubspot_settings(args)
    if args.dry_run:
        plan = await anyio.to_thread.run_sync(
            lambda: dry_run(args.source, options=options, per_minute=settings.rate_per_minute,
                            hubspot=hubspot))
        if options.check_emails:
            check = "email-verify" if options.check_emails == "deep" else "email-validate"
            plan.notices.append(f"--validate-emails: before importing, each distinct address "
                                f"is checked ({check}): about {plan.to_create:,} more requests "
                                "(rows the checker refuses are rejected, not sent).")
        print_dry_run(plan)
        return OK
    display = ImportDisplay(quiet=args.quiet)
    report = await run_operation(
        args, display, import_leads(args.source, settings=settings, options=options,
                                    on_progress=display.update, hubspot=hubspot),
        what="import", resumable=lambda _: display.last is not None and display.last.phase != "starting")
    if not args.quiet:
        print_summary(report)
    return OK if report.ok else PROBLEMS
