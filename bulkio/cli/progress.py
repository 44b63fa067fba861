"""What a person sees during and after an import, export or purge: a live bar on a terminal, a
plain line every few seconds otherwise, nothing with --quiet; then a summary table."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..models import (
    DryRun,
    Ended,
    ExportProgress,
    ExportReport,
    ImportProgress,
    ImportReport,
    PurgePlan,
    PurgeProgress,
    PurgeReport,
    StreamProgress,
)
from .shown import shown

PLAIN_EVERY_S = 5.0
WAITING_SHOWN_S = 5.0  # requests out this long with no answer: say so


def waiting(seconds: float) -> str:
    """' · waiting for the server (12 s)' once requests have hung a while; '' otherwise."""
    return f" · waiting for the server ({seconds:.0f} s)" if seconds >= WAITING_SHOWN_S else ""


def _rate(p: ImportProgress) -> float:
    """Rows a second in this run (a resumed job's earlier rows are not this run's speed)."""
    return (p.rows_done - p.rows_before) / p.elapsed_s if p.elapsed_s > 0 else 0.0


def _estimated_total(p: ImportProgress) -> float | None:
    """Rows in the whole file, from the rows seen so far and how far through it the reader
    is; only while the file is being read (before, the reader has not reached its place)."""
    if not p.fraction_read or p.phase != "importing":
        return None
    return (p.rows_done + p.in_flight) / p.fraction_read


def _eta(p: ImportProgress) -> str:
    """Time left at the quota."""
    total = _estimated_total(p)
    if total is None or p.per_minute is None or p.rows_done >= total:
        return ""
    minutes = (total - p.rows_done) / (p.per_minute * p.leads_per_request)
    return f" · ETA {minutes:.0f} min" if minutes >= 1 else f" · ETA {minutes * 60:.0f} s"


def describe(p: ImportProgress) -> str:
    counts = (f"created {p.created:,} · updated {p.updated:,} · skipped {p.skipped:,} · "
              f"rejected {p.rejected:,} · failed {p.failed:,}")
    if p.phase.startswith("waiting"):  # nothing is sent: a rate or an ETA would mislead
        return f"{p.rows_done:,} rows · {counts} · {p.in_flight:,} awaiting their outcome"
    sending = f" · {p.sending}" if p.sending else ""
    return (f"{p.rows_done:,} rows ({_rate(p):,.1f}/s) · {counts} · 429s {p.rate_limited} · "
            f"retries {p.retries}{sending}{_eta(p)}{waiting(p.waiting_s)}")


class LiveDisplay:
    """A live bar on a terminal, a plain line every few seconds otherwise, nothing if quiet."""

    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._printed_at = 0.0
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._rows: dict[str, TaskID] = {}
        self._held = False

    @contextmanager
    def held(self) -> Iterator[None]:
        """No output at all while a question waits for its answer (the bar would erase it)."""
        self.close()
        self._held = True
        try:
            yield
        finally:
            self._held = False

    def show(self, phase: str, percent: float | None, info: str) -> None:
        """`percent` None: no known total (the bar pulses)."""
        if phase == Ended.FAILED:  # the error says it, in one line
            self.close()
            return
        if self.quiet or self._held or phase == "starting":
            return
        final = phase in (Ended.DONE, Ended.INTERRUPTED)
        if not self.tty:
            if time.monotonic() - self._printed_at >= PLAIN_EVERY_S or final:
                self._printed_at = time.monotonic()
                print(f"bulkio: {phase}: {info}", file=self.stream, flush=True)
            return
        if self._bar is None:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.fields[percent]}"), TimeElapsedColumn(),
                                 TextColumn("{task.fields[info]}"),
                                 console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(phase, total=100, info="", percent="")
        assert self._task is not None
        total = 100 if percent is not None or final else None
        done = 100.0 if phase == Ended.DONE else min(percent or 0.0, 99.9)
        self._bar.update(self._task, description=shown(phase), total=total, completed=done,
                         info=shown(info),
                         percent=f"{int(done):>3d}%" if total else "    ")
        if final:
            self.close()

    def show_rows(self, rows: dict[str, str]) -> None:
        """Lines under the bar on a terminal (one per active client, say); none otherwise."""
        if self._bar is None:
            return
        for label in [label for label in self._rows if label not in rows]:
            self._bar.remove_task(self._rows.pop(label))
        for label, info in rows.items():
            if label in self._rows:
                self._bar.update(self._rows[label], info=shown(info))
            else:
                self._rows[label] = self._bar.add_task(f"  {shown(label)}", total=None,
                                                       info=shown(info), percent="    ")

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
            self._rows = {}


class ImportDisplay(LiveDisplay):
    last: ImportProgress | None = None

    def update(self, p: ImportProgress) -> None:
        self.last = p
        total = _estimated_total(p)
        self.show(p.phase, 100 * p.rows_done / total if total else None, describe(p))


def summary_table(title: str, interrupted: bool, counts: list[tuple[str, int]],
                   requests: int, retries: int, rate_limited: int, elapsed: str) -> Table:
    """The two-column table every command ends with."""
    table = Table(title=f"{shown(title)}{' (interrupted)' if interrupted else ''}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, value in [*counts, ("requests", requests), ("retries", retries),
                         ("rate limited (429)", rate_limited)]:
        table.add_row(label, f"{value:,}")
    table.add_row("elapsed", elapsed)
    return table


def busiest(p: ExportProgress, most: int) -> list[StreamProgress]:
    """The cursors under way that have written the most."""
    return sorted((s for s in p.streams if s.pages and not s.done), key=lambda s: -s.records)[:most]


def describe_export(p: ExportProgress, *, clients: bool = True) -> str:
    """The overall line; with `clients`, the three busiest clients too (for plain lines)."""
    rate = p.records / p.elapsed_s if p.elapsed_s > 0 else 0.0
    done = sum(s.done for s in p.streams)
    text = (f"{p.records:,} records ({rate:,.0f}/s) · {p.pages:,} pages · "
            f"{p.bytes / 1e6:,.1f} MB · cursors {done}/{len(p.streams)} done")
    if clients and (top := busiest(p, 3)):
        text += " · " + ", ".join(f"{s.label} {s.records:,}" for s in top)
    if p.duplicates_dropped:
        text += f" · repeats dropped {p.duplicates_dropped:,}"
    return text + f" · 429s {p.rate_limited} · retries {p.retries}{waiting(p.waiting_s)}"


class ExportDisplay(LiveDisplay):
    last: ExportProgress | None = None
    ROWS = 8  # clients shown under the bar at most: the busiest cursors

    def update(self, p: ExportProgress) -> None:
        self.last = p
        # One kind of lead: the client is label enough.
        kinds = {s.label.split(" ", 1)[0] for s in p.streams}
        rows = {(s.label.split(" ", 1)[-1] if len(kinds) == 1 else s.label):
                f"{s.records:,} records · {s.pages:,} pages" for s in busiest(p, self.ROWS)}
        if p.phase in (Ended.DONE, Ended.INTERRUPTED):
            self.show_rows({})  # the last frame: the overall line alone
        self.show(p.phase, None, describe_export(p, clients=not self.tty))
        self.show_rows(rows)


def print_export_summary(report: ExportReport, console: Console | None = None) -> None:
    console = console or Console()
    rate = report.records / report.elapsed_s if report.elapsed_s else 0.0
    console.print(summary_table(
        "export", report.interrupted,
        [("records", report.records), ("pages", report.pages), ("bytes", report.bytes),
         ("duplicates dropped", report.duplicates_dropped)],
        report.requests, report.retries, report.rate_limited,
        f"{report.elapsed_s:,.1f} s ({rate:,.0f} records/s)"))
    for path in report.files:
        console.print(f"Written: {shown(path)}")
    for stream, error in report.failed_streams.items():
        console.print(f"[red]Failed:[/red] {shown(stream)}: {shown(error)}")
    print_paths(console, report.report_path, report.job_dir)


def describe_purge(p: PurgeProgress) -> str:
    rate = p.sent / p.elapsed_s if p.elapsed_s > 0 else 0.0
    text = f"round {p.round} · listed {p.enumerated:,}"
    if p.found is not None:
        text += f" · found {p.found:,} · sent {p.sent:,} ({rate:,.1f}/s)"
        left = p.remaining if p.remaining is not None else p.found
        if p.per_minute and left > p.sent:
            text += f" · ETA {minutes_text((left - p.sent) / 50 / p.per_minute)}"
    return text + f" · 429s {p.rate_limited} · retries {p.retries}{waiting(p.waiting_s)}"


class PurgeDisplay(LiveDisplay):
    last: PurgeProgress | None = None

    def update(self, p: PurgeProgress) -> None:
        self.last = p
        left = p.remaining if p.remaining is not None else p.found
        percent = 100 * p.sent / left if left else None
        self.show(p.phase, percent, describe_purge(p))


def print_purge_summary(report: PurgeReport, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(
        f"purge of {report.client}", report.interrupted,
        [("found", report.found), ("deleted", report.deleted), ("remaining", report.remaining),
         ("rounds", report.rounds)],
        report.requests, report.retries, report.rate_limited, f"{report.elapsed_s:,.1f} s"))
    if report.client_deleted:
        console.print(f"The client record {shown(report.client)} was deleted.")
    if report.remaining:
        console.print(f"[red]{report.remaining:,} lead(s) remain[/red]: a round deleted nothing "
                      "(see the log); run the command again to retry.")
    print_paths(console, report.report_path, report.job_dir)


def print_purge_plan(plan: PurgePlan, console: Console | None = None) -> None:
    console = console or Console()
    c = plan.client
    console.print(f"{shown(repr(c.name))} (slug {shown(c.slug)}, id {shown(c.id)}): {plan.leads:,} leads")
    when = f": {minutes_text(plan.minutes)} at {plan.per_minute:,.0f} requests a minute" \
        if plan.minutes is not None else ""
    console.print(f"a purge takes about {plan.requests:,} requests (batches of 50, and listing "
                  f"the client before and after){when}")
    console.print("Dry run: nothing was deleted.")


def print_summary(report: ImportReport, console: Console | None = None) -> None:
    console = console or Console()
    console.print(summary_table(
        f"import into {report.client or '?'}", report.interrupted,
        [("rows read", report.rows_read), ("created", report.created),
         ("updated", report.updated), ("skipped (duplicates)", report.skipped_duplicate),
         ("rejected", report.rejected), ("failed", report.failed)],
        report.requests, report.retries, report.rate_limited, f"{report.elapsed_s:,.1f} s"))
    console.print(f"Read as {shown(report.read_as)}.")
    if report.strategy != "single":
        console.print(f"--strategy {report.strategy}: {report.batch_requests:,} batch requests; "
                      f"{report.batch_leads_persisted:,} leads stored by batches, "
                      f"{report.sent_alone:,} rows sent alone (never in a batch), "
                      f"{report.resent_single:,} sent alone after a batch")
    if report.duplicates_removed:
        console.print(f"{report.duplicates_removed:,} leads created twice were removed (a lead "
                      f"was listed up to {report.listed_late_s:,.1f} s after its answer, after a "
                      "listing had found it missing)")
    if report.foreign_leads:
        console.print(f"{report.foreign_leads:,} leads with a row's email but other names or "
                      "company appeared during the import (written by someone else): left as "
                      "they are; the rows were imported as leads of their own")
    _print_notices(console, report.notices)
    if report.rejects_path:
        console.print(f"Rejected and failed rows, with the reason: {shown(report.rejects_path)}")
    if report.unmapped_columns:
        console.print(f"Columns not imported: {shown(', '.join(report.unmapped_columns))} "
                      "(map them with --mapping, or --unmapped notes)")
    print_paths(console, report.report_path, report.job_dir)


def _print_notices(console: Console, notices: list[str]) -> None:
    if notices:
        console.print("Notes:")
        for notice in notices:
            console.print(f"  - {shown(notice)}")


def print_paths(console: Console, report: str | None, job: str) -> None:
    paths = [f"{label}: {shown(path)}" for label, path in (("Report", report), ("Job", job)) if path]
    if paths:
        console.print("   ".join(paths))


def print_dry_run(plan: DryRun, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="column mapping")
    table.add_column("column")
    table.add_column("lead field")
    for column, target in plan.columns.items():
        table.add_row(shown(column), shown(target) if target else "[dim]not imported[/dim]")
    console.print(f"Read as {shown(plan.read_as)}.")
    console.print(table)
    for payload in plan.samples:
        console.print_json(orjson.dumps(payload).decode())
    console.print(f"rows: {plan.rows_read:,}; to create: {plan.to_create:,}; duplicates in the "
                  f"source: {plan.skipped_duplicate:,}; rejected: {plan.rejected:,}")
    for rowno, error in plan.rejections:
        console.print(f"  row {rowno}: {shown(error)}")
    _print_notices(console, plan.notices)
    if not plan.whole_source and plan.rows_read:  # a sample: the cost per 10,000 records
        share = plan.to_create / plan.rows_read
        said = f"per 10,000 records: about {10_000 * share:,.0f} LeadGenius requests"
        if plan.per_minute:
            said += f" ({minutes_text(10_000 * share / plan.per_minute)} at {plan.per_minute:,.0f} a minute)"
        hubspot = 10_000 * plan.hubspot_requests / plan.rows_read
        said += f" and {hubspot:,.0f} HubSpot requests"
        if plan.hubspot_per_10s:
            took = minutes_text(hubspot / plan.hubspot_per_10s / 6)
            said += f" ({took} at {plan.hubspot_per_10s} per 10 s)"
        console.print(said)
    elif plan.minutes is not None:
        console.print(f"about {plan.requests:,} requests: {minutes_text(plan.minutes)} at "
                      f"{plan.per_minute:,.0f} requests a minute (plus a few to list the client)"
                      + (" if the batch path stores what it is sent" if plan.strategy != "single"
                         else ""))
    if plan.strategy != "single":
        worst = plan.requests_if_batches_store_nothing
        console.print(f"--strategy {plan.strategy}: {plan.with_email:,} rows in batches of "
                      f"{plan.batch_size}; if the batch path stores nothing, {worst:,} requests")
    console.print("Dry run: nothing was sent. The client's existing leads were not checked.")


def minutes_text(minutes: float) -> str:
    if minutes * 60 < 1:
        return "under a second"
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
