"""`bulkio campaign download`: a campaign's records to a file, or (the round trip) its
finalized records back into a LeadGenius Pro client."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from .exit import OK, PROBLEMS
from .legacy_options import add_legacy_options, legacy_settings
from .options import (
    add_connection_options,
    add_job_options,
    add_output_options,
    add_quota_options,
    settings_from_args,
)
from .progress import LiveDisplay
from .running import run_operation
from .shown import shown

if TYPE_CHECKING:
    from ..ops.campaigns.download import DownloadReport


def add_download(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser(
        "download", help="a campaign's records to a file, or back into a Pro client",
        description="Download a campaign's records, 100 a request following the API's own "
                    "links, straight to disk (FILE.part, renamed when complete; --resume "
                    "goes on from the last page written). With --into-client, its finalized "
                    "records go back into a LeadGenius Pro client instead: each matched to "
                    "its lead by the key it was uploaded with (an upload from client:SLUG), "
                    "else by email, and updated with what differs (values the Pro API has no "
                    "field for as notes lines); records no lead matches are imported as new "
                    "leads, exactly once. Exit codes: 0 done, 1 leads the import rejected or "
                    "failed, 2 usage or configuration, 75 records still not finalized at "
                    "--wait-timeout, 130 interrupted (resumable).")
    p.add_argument("slug", metavar="SLUG", help="the campaign's slug")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, metavar="FILE",
                       help="FILE.csv or FILE.ndjson (.gz to compress)")
    where.add_argument("--into-client", metavar="PRO_SLUG",
                       help="bring the finalized records back into this Pro client")
    p.add_argument("--on-duplicate", choices=("update", "skip"), default="update",
                   help="--into-client: a record whose lead exists updates it (default) or is "
                        "skipped")
    p.add_argument("--finalized-only", action="store_true",
                   help="only finalized records (--into-client: always)")
    p.add_argument("--ids", type=Path, metavar="FILE",
                   help="only these record ids (one a line)")
    p.add_argument("--wait", action="store_true",
                   help="first wait until every record this machine uploaded into the "
                        "campaign is finalized (polling within the quota)")
    p.add_argument("--wait-timeout", type=float, default=86_400.0, metavar="SECONDS",
                   help="stop waiting after this long (default: a day; exit 75)")
    p.add_argument("--csv-raw", action="store_true",
                   help="write cells that start with = + - @ as they are (by default they are "
                        "prefixed with ' so a spreadsheet shows them as text)")
    add_job_options(p, "download", "download-<slug>-...")
    add_legacy_options(p, insecure=False)
    add_connection_options(p)  # for --into-client
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run_download)


class DownloadDisplay(LiveDisplay):
    last: DownloadReport | None = None

    def update(self, r: DownloadReport) -> None:
        self.last = r
        self.show("downloading", None, f"{r.records:,} records ({r.finalized:,} finalized), "
                                       f"{r.pages:,} pages")


async def run_download(args: argparse.Namespace) -> int:
    from ..enrichment.client import open_enrichment
    from ..ops.campaigns.download import DownloadOptions, download_campaign, into_client_job

    settings = legacy_settings(args)
    into = args.into_client
    job_dir = args.job_dir
    if into and job_dir is None:
        job_dir = into_client_job(settings.base_url, args.slug, into)
    options = DownloadOptions(
        campaign=args.slug, out=args.out or job_dir / "records.ndjson",
        finalized_only=args.finalized_only or bool(into), ids=args.ids, wait=args.wait,
        wait_timeout=args.wait_timeout, resume=args.resume, job_dir=job_dir,
        report=args.report, csv_raw=args.csv_raw)
    display = DownloadDisplay(quiet=args.quiet)
    async with open_enrichment(settings) as api:
        report = await run_operation(args, display, download_campaign(
            api, options, on_page=display.update), what="download",
            resumable=lambda _: display.last is not None)
    console = Console()
    if not args.quiet:
        waited = f" (after waiting {report.waited_s:,.0f} s)" if report.waited_s else ""
        console.print(f"{report.records:,} records of {shown(args.slug)}, {report.finalized:,} "
                      f"finalized{waited}, in {report.pages:,} pages: "
                      f"{shown(report.out_path)}")
    if not into:
        return OK
    return await _into_client(args, Path(report.job_dir), options.out, console)


async def _into_client(args: argparse.Namespace, job_dir: Path, records: Path,
                       console: Console) -> int:
    from ..api.campaigns import into_client

    trip, report = await into_client(
        settings_from_args(args), records, job_dir, client=args.into_client,
        campaign=(legacy_settings(args).base_url, args.slug), on_duplicate=args.on_duplicate)
    if not args.quiet:
        console.print(f"into {shown(args.into_client)}: {trip.updated:,} leads updated, "
                      f"{trip.unchanged:,} unchanged, {trip.skipped:,} skipped, {trip.new:,} "
                      f"new ({trip.matched_by_key:,} matched by key, {trip.matched_by_email:,} "
                      "by email)")
        if report is not None:
            console.print(f"new leads: {report.created:,} created, {report.updated:,} "
                          f"updated, {report.rejected + report.failed:,} not imported"
                          + (f" ({shown(report.rejects_path)})" if report.rejects_path
                             else ""))
    return PROBLEMS if report is not None and (report.rejected or report.failed) else OK
