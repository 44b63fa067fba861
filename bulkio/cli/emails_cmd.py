"""`bulkio emails validate`: the handler is thin; bulkio.api.validate_emails does the work."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..ops.emails.report import EmailReport
from .exit import OK, PROBLEMS
from .options import (
    add_connection_options,
    add_job_options,
    add_output_options,
    add_quota_options,
    settings_from_args,
)
from .progress import LiveDisplay, print_paths, summary_table
from .running import run_operation
from .shown import shown


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("emails", help="check many email addresses (validate or verify)",
                            description="Email checks in bulk.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION",
                               parser_class=type(p))
    v = actions.add_parser(
        "validate", help="the checker's verdict for every row of a file or lead of a client",
        description="Ask POST /api/email-validate (--deep: /api/email-verify) about every "
                    "distinct address of a CSV/NDJSON file, read as `bulkio import` reads it, "
                    "or of a client (client:SLUG); write one line per row: its address, "
                    "verdict (valid, invalid, risky, unknown) and reason. Exit codes: 0 every "
                    "address checked, 1 some could not be (the checker did not answer; "
                    "--resume asks again), 2 usage or configuration, 130 interrupted.")
    v.add_argument("source", metavar="SOURCE", help="a .csv/.ndjson file, or client:SLUG")
    v.add_argument("--out", type=Path, required=True, metavar="FILE",
                   help="one line per row: .ndjson, or .csv")
    v.add_argument("--deep", action="store_true",
                   help="verify deliverability (email-verify) instead of validating")
    v.add_argument("--mapping", metavar="FILE.json", help="column -> field overrides, as import")
    v.add_argument("--encoding", help="a CSV's encoding (detected otherwise)")
    v.add_argument("--format", choices=("csv", "ndjson"), help="the file's format")
    add_job_options(v, "check", "emails-<source>-...")
    add_connection_options(v)
    add_quota_options(v)
    add_output_options(v)
    v.set_defaults(handler=run)


class EmailDisplay(LiveDisplay):
    checked = 0

    def update(self, done: int, distinct: int) -> None:
        self.checked = done
        self.show("checking", 100 * done / distinct if distinct else None,
                  f"{done:,} of {distinct:,} distinct addresses")


async def run(args: argparse.Namespace) -> int:
    from ..api import validate_emails

    display = EmailDisplay(quiet=args.quiet)
    report = await run_operation(
        args, display, validate_emails(
            args.source, out=args.out, deep=args.deep, settings=settings_from_args(args),
            job_dir=args.job_dir, resume=args.resume, report=args.report, mapping=args.mapping,
            encoding=args.encoding, fmt=args.format, on_checked=display.update),
        what="check", resumable=lambda _: display.checked > 0)
    if not args.quiet:
        print_email_summary(report)
    return PROBLEMS if report.unchecked else OK


def print_email_summary(report: EmailReport, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(
        "email check", False,
        [("addresses checked", report.checked), ("valid", report.valid),
         ("invalid", report.invalid), ("risky", report.risky), ("unknown", report.unknown),
         ("not answered (--resume)", report.unchecked), ("repeated addresses", report.duplicates),
         ("rows without an email", report.no_email)],
        report.requests, report.retries, report.rate_limited, f"{report.elapsed_s:,.1f} s"))
    if report.out_path:
        console.print(f"Per row: {shown(report.out_path)}")
    print_paths(console, report.report_path, "")
