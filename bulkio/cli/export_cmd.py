"""`bulkio export`: the handler is thin; bulkio.api.export_leads does the work."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from ..ops.exports.job import ALL_CLIENTS, FORMATS, KINDS, ExportOptions
from .exit import OK, PROBLEMS
from .options import (
    add_connection_options,
    add_job_options,
    add_output_options,
    add_quota_options,
    settings_from_args,
)
from .progress import ExportDisplay, print_export_summary
from .running import resume_command, run_operation


def fields_list(text: str) -> tuple[str, ...]:
    fields = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    if not fields:
        raise argparse.ArgumentTypeError("--fields needs at least one field name, e.g. email,companyName")
    return fields


def page_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if not 1 <= value <= 5000:
        raise argparse.ArgumentTypeError("the page size is between 1 and 5000")
    return value


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "export", help="export a tenant's leads to NDJSON or CSV",
        description="Page the bulk list endpoints (5,000 a page, API key) straight to disk, one "
                    "cursor per client at once. The file is written as PATH.part and renamed "
                    "when complete, with PATH.manifest.json beside it. Exit codes: 0 done, 1 "
                    "finished with problems (see the report), 2 usage or configuration, 130 "
                    "interrupted (resumable).")
    p.add_argument("--out", required=True, metavar="PATH",
                   help="a .ndjson, .jsonl or .csv file, optionally .gz; or a directory (existing, "
                        "or ending in /) that receives <kind>.ndjson; or - for standard output "
                        "(NDJSON, or CSV with --format csv and --fields; not resumable)")
    g = p.add_argument_group("what")
    g.add_argument("--kind", choices=tuple(KINDS), default="enrich",
                   help="enrich leads (default), source leads, or all (one file per kind)")
    g.add_argument("--client", default=ALL_CLIENTS, metavar="SLUG|ALL",
                   help="one client (its slug; a UUID is translated), or ALL (default)")
    g.add_argument("--fields", type=fields_list, metavar="a,b,c",
                   help="only these fields (plus id in NDJSON); the CSV header is exactly these")
    g.add_argument("--page-size", type=page_size, default=5000, metavar="N",
                   help="records a page, at most 5000 (default)")
    g.add_argument("--format", choices=FORMATS,
                   help="when --out is a directory or its name does not say (default ndjson)")
    g.add_argument("--gzip", action="store_true", help="compress (for a directory --out)")
    g.add_argument("--single-cursor", action="store_true",
                   help="page every client through one cursor: slower, but also finds leads "
                        "filed under a client_id that no listed client has")
    g.add_argument("--allow-unknown-fields", action="store_true",
                   help="export --fields names that no lead is known to carry (empty columns) "
                        "instead of refusing them")
    g = p.add_argument_group("output file")
    g.add_argument("--force", action="store_true",
                   help="replace an existing --out file (a --resume of its own job needs no --force)")
    g.add_argument("--csv-raw", action="store_true",
                   help="write CSV cells that start with = + - @ tab or CR as they are (by "
                        "default they are prefixed with ' so a spreadsheet shows them as text, "
                        "not as a formula to run)")
    add_job_options(p, "export", "export-<name>-...")
    add_connection_options(p)
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run)


def options_from_args(args: argparse.Namespace) -> ExportOptions:
    return ExportOptions(
        out=args.out, kind=args.kind, client=args.client, fields=args.fields,
        page_size=args.page_size, format=args.format, gzip=args.gzip,
        single_cursor=args.single_cursor, resume=args.resume, report=args.report,
        job_dir=args.job_dir, csv_raw=args.csv_raw, force=args.force,
        allow_unknown_fields=args.allow_unknown_fields,
        stdout=sys.stdout.buffer if args.out == "-" else None)


async def run(args: argparse.Namespace) -> int:
    from ..api import export_leads

    display = ExportDisplay(quiet=args.quiet)
    to_stdout = args.out == "-"
    report = await run_operation(
        args, display, export_leads(args.out, settings=settings_from_args(args),
                                    options=options_from_args(args), on_progress=display.update),
        what="export", resumable=lambda _: not to_stdout and display.last is not None
        and display.last.phase != "starting")
    if not args.quiet:  # the records may be on stdout: the summary goes beside the progress
        print_export_summary(report, Console(stderr=True) if to_stdout else None)
    if report.failed_streams:
        print(f"bulkio: {len(report.failed_streams)} cursor(s) failed; the file is kept as .part. "
              f"To retry them, run: {resume_command(args)}", file=sys.stderr)
    return OK if report.ok else PROBLEMS
