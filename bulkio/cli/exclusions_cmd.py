"""`bulkio exclusions upload`: contacts and companies LeadGenius must never enrich."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .exit import OK, PROBLEMS
from .legacy_options import add_legacy_options, legacy_settings
from .options import add_output_options


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "exclusions", help="the legacy enrichment API's exclusion list: upload",
        description="The exclusion list of LeadGenius's legacy enrichment API: contacts and "
                    "companies it will never enrich.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    upload = actions.add_parser(
        "upload", help="add a file's contacts and companies to the exclusion list",
        description="Add a CSV or NDJSON file's rows to the exclusion list, 200 a request at "
                    "the legacy API's quota. Columns are read by name (an email, a LinkedIn "
                    "URL, a website, a company name...; the API's own names too). A row is a "
                    "contact when it has a contact email or LinkedIn URL, else a company when "
                    "it has a website or company LinkedIn URL; a row with neither is rejected "
                    "with the reason, in the rejects file. Adding an exclusion twice changes "
                    "nothing, so running it again is safe.")
    upload.add_argument("source", metavar="SOURCE", help="a CSV or NDJSON file (or - for stdin)")
    upload.add_argument("--entity", choices=("auto", "contact", "org"), default="auto",
                        help="what every row is (default: auto, decided row by row)")
    upload.add_argument("--rejects", type=Path, metavar="FILE",
                        help="rows not excluded, with _row and _error (default: "
                             "<file>-exclusion-rejects.csv in the current folder)")
    upload.add_argument("--report", type=Path, metavar="FILE", help="write the JSON report here")
    add_legacy_options(upload)
    add_output_options(upload)
    upload.set_defaults(handler=run_upload)


async def run_upload(args: argparse.Namespace) -> int:
    from ..enrichment.client import open_enrichment
    from ..ops.campaigns.exclusions import check_files, upload_exclusions
    from ..sources.files import open_source

    settings = legacy_settings(args)
    name = "stdin" if args.source == "-" else Path(args.source).name
    rejects = args.rejects or Path(f"{Path(name).stem}-exclusion-rejects"
                                   f"{'.ndjson' if name.endswith('.ndjson') else '.csv'}")
    check_files(rejects, args.report)  # before anything is read or sent
    source = open_source(args.source, stdin=sys.stdin.buffer)
    try:
        async with open_enrichment(settings) as api:
            report = await upload_exclusions(api, source, entity=args.entity,
                                             rejects_path=rejects, report_path=args.report)
    finally:
        source.close()
    if not args.quiet:
        print(f"excluded {report.accepted:,} of {report.rows_read:,} rows ({report.contacts:,} "
              f"contacts, {report.orgs:,} companies); rejected {report.rejected:,}, refused "
              f"by the API {report.failed:,}"
              + (f": see {report.rejects_path}" if report.rejects_path else ""))
        if report.unmapped_columns:
            print(f"columns not used: {', '.join(report.unmapped_columns)}")
    return OK if report.ok else PROBLEMS
