"""What a person sees during and after an import: a live bar on a terminal, a plain line every
few seconds otherwise, nothing with --quiet; then a summary table."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..models import DryRun, ImportProgress, ImportReport

PLAIN_EVERY_S = 5.0


def _rate(p: ImportProgress) -> float:
    return p.rows_done / p.elapsed_s if p.elapsed_s > 0 else 0.0


def _eta(p: ImportProgress) -> str:
    """Time left at the quota, from how far through the file the reader is."""
    if not p.fraction_read or p.per_minute is None or p.fraction_read >= 1:
        return ""
    seen = p.rows_done + p.in_flight
    left = seen / p.fraction_read - seen + p.in_flight
    minutes = left / p.per_minute
    return f" · ETA {minutes:.0f} min" if minutes >= 1 else f" · ETA {minutes * 60:.0f} s"


def describe(p: ImportProgress) -> str:
    return (f"{p.rows_done:,} rows ({_rate(p):,.1f}/s) · created {p.created:,} · updated "
            f"{p.updated:,} · skipped {p.skipped:,} · rejected {p.rejected:,} · failed "
            f"{p.failed:,} · 429s {p.rate_limited} · retries {p.retries}{_eta(p)}")


class ImportDisplay:
    def __init__(self, *, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last: ImportProgress | None = None
        self._printed_at = 0.0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def update(self, p: ImportProgress) -> None:
        self.last = p
        if self.quiet or p.phase == "starting":
            return
        if self.tty:
            self._draw(p)
        elif time.monotonic() - self._printed_at >= PLAIN_EVERY_S or p.phase in ("done", "interrupted"):
            self._printed_at = time.monotonic()
            print(f"bulkio: {p.phase}: {describe(p)}", file=self.stream, flush=True)

    def _draw(self, p: ImportProgress) -> None:
        if self._bar is None:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                                 TextColumn("{task.fields[info]}"),
                                 console=Console(file=self.stream), transient=False)
            self._bar.start()
            self._task = self._bar.add_task(p.phase, total=100, info="")
        assert self._task is not None
        done = 100 * p.fraction_read if p.fraction_read is not None else None
        self._bar.update(self._task, description=p.phase, completed=done or 0, info=describe(p))
        if p.phase in ("done", "interrupted"):
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def print_summary(report: ImportReport, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"import into {report.client or '?'}"
                        f"{' (interrupted)' if report.interrupted else ''}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for label, value in (("rows read", report.rows_read), ("created", report.created),
                         ("updated", report.updated),
                         ("skipped (duplicates)", report.skipped_duplicate),
                         ("rejected", report.rejected), ("failed", report.failed),
                         ("requests", report.requests), ("retries", report.retries),
                         ("rate limited (429)", report.rate_limited)):
        table.add_row(label, f"{value:,}")
    table.add_row("elapsed", f"{report.elapsed_s:,.1f} s")
    console.print(table)
    if report.rejects_path:
        console.print(f"Rejected and failed rows, with the reason: {report.rejects_path}")
    if report.unmapped_columns:
        console.print(f"Columns not imported: {', '.join(report.unmapped_columns)} "
                      "(map them with --mapping, or --unmapped notes)")
    console.print(f"Report: {report.report_path}   Job: {report.job_dir}")


def print_dry_run(plan: DryRun, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="column mapping")
    table.add_column("column")
    table.add_column("lead field")
    for column, target in plan.columns.items():
        table.add_row(column, target or "[dim]not imported[/dim]")
    console.print(table)
    import orjson

    for payload in plan.samples:
        console.print_json(orjson.dumps(payload).decode())
    console.print(f"rows: {plan.rows_read:,}; to create: {plan.to_create:,}; duplicates in the "
                  f"file: {plan.skipped_duplicate:,}; rejected: {plan.rejected:,}")
    for rowno, error in plan.rejections:
        console.print(f"  row {rowno}: {error}")
    if plan.minutes is not None:
        console.print(f"about {plan.requests:,} requests: {_minutes(plan.minutes)} at "
                      f"{plan.per_minute:,.0f} requests a minute (plus a few to list the client)")
    console.print("Dry run: nothing was sent. The client's existing leads were not checked.")


def _minutes(minutes: float) -> str:
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
