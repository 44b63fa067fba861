"""`bulkio process enrich|copyright|sdr|status`: the handlers are thin; bulkio.api.processing
does the work."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..ops.process.job import DEFAULT_WAIT_TIMEOUT_S, ProcessOptions
from ..ops.process.plan import parse_items
from .exit import OK, PROBLEMS
from .options import (
    add_connection_options,
    add_job_options,
    add_output_options,
    add_quota_options,
    settings_from_args,
)
from .process_view import ProcessDisplay, print_process_plan, print_process_summary
from .running import run_operation

KINDS = {
    "enrich": ("--services", "SERVICES", "enrichment services: companyUrl, emailFinder, "
               "enrichment1..enrichment10 (the URL settings)"),
    "copyright": ("--processes", "N,N", "copyright processes 1..10 (the agent settings)"),
    "sdr": ("--fields", "FIELDS", "SDR AI fields: aiLeadScore, aiQualification, message1... "
            "(the SDR AI settings)"),
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "process", help="enrich, copyright or SDR AI for many leads, each once, tracked",
        description="Trigger lead processing for a whole client (or --leads), each lead once, "
                    "under the quota; with --wait, track every run to its end. Exit codes: 0 "
                    "every lead triggered or skipped (and, with --wait, every run completed), "
                    "1 some rejected, unknown, failed or still running (see the report), 2 "
                    "usage or configuration (e.g. every lead would be skipped), 130 "
                    "interrupted (resumable).")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="KIND",
                             parser_class=type(p))
    for kind, (flag, metavar, help_text) in KINDS.items():
        k = kinds.add_parser(kind, help=f"trigger {kind} processing",
                             description=f"Trigger {kind} processing for each selected lead.")
        k.add_argument(flag, dest="items", required=True, metavar=metavar, help=help_text)
        _add_selection(k)
        add_job_options(k, "processing job", f"process-{kind}-<client>-...")
        k.add_argument("--out", type=Path, metavar="FILE.ndjson",
                       help="one line per lead: leadId, state, triggered, skipped, runIds, run "
                            "statuses and errors (default: JOB/results.ndjson)")
        add_connection_options(k)
        add_quota_options(k)
        add_output_options(k)
        k.set_defaults(handler=run)
    s = kinds.add_parser("status", help="poll a processing job's runs again",
                         description="Poll the runs of a processing job that are not final "
                                     "(once, or until each ends with --wait), then write its "
                                     "report and results again.")
    s.add_argument("job_dir", type=Path, metavar="JOB", help="the job directory a run printed")
    s.add_argument("--wait", action="store_true", help="poll until every run is final")
    s.add_argument("--wait-timeout", type=float, default=DEFAULT_WAIT_TIMEOUT_S,
                   metavar="SECONDS", help="stop tracking a run this long after it started "
                                           "(default: 3600)")
    s.add_argument("--report", type=Path, metavar="FILE.json")
    s.add_argument("--out", type=Path, metavar="FILE.ndjson")
    add_connection_options(s)
    add_quota_options(s)
    add_output_options(s)
    s.set_defaults(handler=status)


def _add_selection(k: argparse.ArgumentParser) -> None:
    g = k.add_argument_group("which leads, and how")
    g.add_argument("--client", metavar="SLUG", help="every lead of this client")
    g.add_argument("--leads", type=Path, metavar="FILE",
                   help="only these leads: ids one a line, or an export's NDJSON")
    g.add_argument("--where", action="append", default=[], metavar="FIELD=VALUE",
                   help="only leads whose FIELD equals VALUE; FIELD= means empty (repeatable; "
                        "evaluated on the client's listing)")
    g.add_argument("--overwrite", action="store_true",
                   help="run services whose field already has a value (default: skipped)")
    g.add_argument("--wait", action="store_true",
                   help="track every run to a final state (else: `bulkio process status JOB`)")
    g.add_argument("--wait-timeout", type=float, default=DEFAULT_WAIT_TIMEOUT_S,
                   metavar="SECONDS", help="stop tracking a run this long after it started "
                                           "(default: 3600)")
    g.add_argument("--settle", type=float, default=30.0, metavar="S",
                   help="the server's own timeout: a trigger whose answer was lost is known "
                        "not to have run once S seconds pass without its runs (default: 30)")
    g.add_argument("--retrigger-unknown", action="store_true",
                   help="with --resume: send again the leads whose trigger stayed unknown")
    g.add_argument("--again", action="store_true",
                   help="trigger the leads of a finished job again, as a new job (each trigger "
                        "spends the services' credits)")
    g.add_argument("--dry-run", action="store_true",
                   help="read the settings and list the leads; say what would be triggered "
                        "and skipped, the requests and the time; trigger nothing")


async def run(args: argparse.Namespace) -> int:
    from ..api import dry_run_process, make_spec, process_leads

    settings = settings_from_args(args)
    spec = make_spec(args.kind, parse_items(args.kind, args.items), client=args.client,
                     leads_file=args.leads, where=args.where, overwrite=args.overwrite)
    if args.dry_run:
        print_process_plan(await dry_run_process(spec, settings=settings, wait=args.wait))
        return OK
    options = ProcessOptions(wait=args.wait, wait_timeout=args.wait_timeout, settle=args.settle,
                             retrigger_unknown=args.retrigger_unknown, again=args.again,
                             resume=args.resume,
                             report=args.report, out=args.out, job_dir=args.job_dir)
    display = ProcessDisplay(quiet=args.quiet)
    report = await run_operation(
        args, display, process_leads(spec, settings=settings, options=options,
                                     on_progress=display.update),
        what="processing", resumable=lambda _: display.last is not None)
    if not args.quiet:
        print_process_summary(report)
    return OK if report.ok else PROBLEMS


async def status(args: argparse.Namespace) -> int:
    from ..api import process_status

    report = await process_status(args.job_dir, settings=settings_from_args(args),
                                  wait=args.wait, wait_timeout=args.wait_timeout,
                                  report=args.report, out=args.out)
    if not args.quiet:
        print_process_summary(report)
    return OK if report.ok else PROBLEMS
