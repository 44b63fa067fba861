"""`bulkio campaign upload`: a file's rows, or a Pro client's leads, into an enrichment
campaign, each record once; what a person sees during and after."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from .exit import OK, PROBLEMS
from .legacy_options import add_legacy_options, legacy_settings
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

if TYPE_CHECKING:
    from ..ops.campaigns.job import UploadReport
    from ..ops.campaigns.plan import UploadPlan
    from ..ops.campaigns.run import UploadProgress
    from ..ops.campaigns.sources import RowSource

TYPES = "datahub, single_field, enrichment or contact_append"


def add_upload(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser(
        "upload", help="upload a file's rows or a client's leads into a campaign, each once",
        description="Upload a CSV or NDJSON file's rows, or a LeadGenius Pro client's leads "
                    "(client:SLUG), into an enrichment campaign, 200 records a request at the "
                    "legacy API's quota, each record once: every request is journalled before "
                    "it is sent, and one whose answer is lost is looked for in the campaign "
                    "(after --settle) before any record of it is sent again. Columns map to "
                    "the API's org_* and contact_* fields by name (email, company, website, "
                    "title...; the API's own names too). Every row is uploaded, or rejected "
                    "with its reason in the rejects file. Exit codes: 0 every row uploaded, 1 "
                    "some rejected, refused or held back, 2 usage, configuration or more "
                    "records than the allowance has left, 75 stopped for now (resume later), "
                    "130 interrupted (resumable).")
    p.add_argument("source", metavar="SOURCE",
                   help="a CSV or NDJSON file (.gz too; - for stdin), or client:SLUG")
    p.add_argument("--campaign", metavar="SLUG",
                   help="the campaign's slug (created by its first upload)")
    p.add_argument("--type", metavar="TYPE",
                   help=f"the campaign's type: {TYPES} (on --resume: the job's)")
    p.add_argument("--fields", metavar="f1,f2,...",
                   help="the fields the campaign should return (org_..., contact_...; on "
                        "--resume: the job's)")
    p.add_argument("--allow-field", action="append", default=[], metavar="NAME",
                   help="a field of the campaign's own (defined in its Dashboard), sent from "
                        "the column of that name (repeatable)")
    p.add_argument("--mapping", type=Path, metavar="FILE.json",
                   help="column -> field (or null: not sent), over the automatic mapping")
    p.add_argument("--webhook-url", metavar="URL|auto",
                   help="where LeadGenius says which records are finalized; auto: the "
                        "running `bulkio serve` (started with the legacy key), which then "
                        "downloads each finalized record once")
    p.add_argument("--into-client", metavar="PRO_SLUG",
                   help="with --webhook-url auto: the service brings the finalized records "
                        "back into this Pro client (as `campaign download --into-client`)")
    p.add_argument("--up-to-remaining", action="store_true",
                   help="with more records than this period's allowance has left: send the "
                        "first that fit, in source order, and hold back the rest (else: stop "
                        "before sending, exit 2)")
    p.add_argument("--settle", type=float, default=30.0, metavar="S",
                   help="the API stores an upload within S seconds or never: a request whose "
                        "answer was lost is looked for in the campaign after that (default 30)")
    p.add_argument("--batch-size", type=int, default=200, metavar="N",
                   help="records a request (at most 200, the default; halved by itself after "
                        "repeated gateway timeouts)")
    p.add_argument("--dry-run", action="store_true",
                   help="read and map every row; say what would be sent, rejected and held, "
                        "the requests and the time; send nothing")
    g = add_job_options(p, "upload", "campaign-<slug>-...")
    g.add_argument("--rejects", type=Path, metavar="FILE",
                   help="rows not uploaded, with _row and _error, in the input's format "
                        "(default: in the job directory)")
    add_legacy_options(p, insecure=False)
    add_connection_options(p)  # for client:SLUG
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run_upload)


class UploadDisplay(LiveDisplay):
    last: UploadProgress | None = None

    def update(self, p: UploadProgress) -> None:
        self.last = p
        rate = p.accepted / p.elapsed_s * 60 if p.elapsed_s >= 2 else 0.0
        doubt = f" · {p.in_doubt:,} being looked for" if p.in_doubt else ""
        self.show("uploading", 100 * p.accepted / p.records if p.records else None,
                  f"{p.accepted:,}/{p.records:,} records ({rate:,.0f}/min){doubt} · 429s "
                  f"{p.rate_limited}")


async def run_upload(args: argparse.Namespace) -> int:
    from ..enrichment.client import open_enrichment
    from ..errors import ConfigError
    from ..ops.campaigns.job import UploadOptions
    from ..ops.campaigns.run import upload_to_campaign

    if not args.campaign:
        raise ConfigError("--campaign is needed: the campaign's slug")
    options = UploadOptions(
        campaign=args.campaign, type=args.type or "",
        fields=tuple(f.strip() for f in (args.fields or "").split(",") if f.strip()),
        allow_fields=tuple(args.allow_field), mapping=args.mapping,
        webhook_url=args.webhook_url, into_client=args.into_client, settle=args.settle,
        batch_size=args.batch_size,
        up_to_remaining=args.up_to_remaining, resume=args.resume, job_dir=args.job_dir,
        report=args.report, rejects=args.rejects)
    settings = legacy_settings(args)
    async with open_enrichment(settings) as api, _rows(args) as source:
        if args.dry_run:
            from ..ops.campaigns.plan import plan_upload

            usage = await api.usage()
            print_plan(await plan_upload(
                source, options, rate_per_minute=settings.rate_per_minute,
                remaining=int(usage["current_period"].get("remaining") or 0)))
            return OK
        display = UploadDisplay(quiet=args.quiet)
        report = await run_operation(
            args, display, upload_to_campaign(api, source, options, on_progress=display.update),
            what="upload", resumable=lambda _: display.last is not None)
    if not args.quiet:
        print_upload_summary(report)
    return OK if report.ok else PROBLEMS


@asynccontextmanager
async def _rows(args: argparse.Namespace) -> AsyncIterator[RowSource]:
    """The SOURCE argument opened: a file, or a Pro client's leads (with a Pro connection)."""
    from ..ops.campaigns.sources import ClientRows, FileRows

    if args.source.startswith("client:"):
        from ..leadgenius.client import open_client

        settings = settings_from_args(args)
        async with open_client(settings) as pro:
            yield ClientRows(pro, args.source.removeprefix("client:"), settings.base_url)
        return
    from ..sources.files import open_source

    source = open_source(args.source, stdin=sys.stdin.buffer)
    try:
        yield FileRows(source)
    finally:
        source.close()


def print_upload_summary(report: UploadReport, console: Console | None = None) -> None:
    console = console or Console()
    counts = [("rows read", report.rows_read), ("records", report.records),
              ("in the campaign", report.accepted), ("rejected", report.rejected),
              ("refused by the API", report.failed), ("held back", report.held),
              ("found after a lost answer", report.recovered), ("sent again", report.resent)]
    console.print(summary_table(f"upload to campaign {report.campaign}",
                                report.status == "interrupted",
                                [(k, v) for k, v in counts if v or k in ("rows read",
                                                                         "in the campaign")],
                                report.requests, report.retries, report.rate_limited,
                                f"{report.elapsed_s:,.1f} s"))
    for notice in report.notices:
        console.print(f"Note: {shown(notice)}")
    if report.remaining_allowance is not None:
        console.print(f"This period's allowance: {report.remaining_allowance:,} records left")
    if report.rejects_path:
        console.print(f"Rows not uploaded, with the reason: {shown(report.rejects_path)}")
    print_paths(console, report.report_path, report.job_dir)


def print_plan(plan: UploadPlan, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="column mapping")
    table.add_column("column")
    table.add_column("enrichment field")
    for column, target in plan.columns.items():
        table.add_row(shown(column), shown(target) if target else "[dim]not sent[/dim]")
    console.print(table)
    console.print(f"{plan.rows_read:,} rows: {plan.records:,} records to upload into "
                  f"{shown(plan.campaign)} ({plan.contacts:,} contacts, {plan.orgs:,} accounts, "
                  f"{plan.leads:,} leads), {plan.rejected:,} rejected")
    for rowno, reason in plan.first_rejects:
        console.print(f"  row {rowno}: {shown(reason)}")
    when = f", about {plan.minutes:,.1f} min at the quota" if plan.minutes is not None else ""
    console.print(f"{plan.requests:,} upload requests{when}")
    if plan.remaining_allowance is not None:
        console.print(f"This period's allowance: {plan.remaining_allowance:,} records left")
    for notice in plan.notices:
        console.print(f"Note: {shown(notice)}")
    console.print("Dry run: nothing was sent.")
