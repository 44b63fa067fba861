"""What a person sees during and after `bulkio process`: progress, the summary, the dry run."""

from __future__ import annotations

from rich.console import Console

from ..ops.process.report import ProcessPlan, ProcessProgress, ProcessReport
from .progress import LiveDisplay, minutes_text, print_paths, summary_table, waiting
from .shown import shown


def describe_process(p: ProcessProgress) -> str:
    rate = p.sent / p.elapsed_s * 60 if p.elapsed_s >= 2 else 0.0  # not from a first burst
    eta = ""
    if p.per_minute and p.to_send and p.phase == "triggering":
        minutes = p.to_send / p.per_minute
        eta = f" · ETA {minutes:.0f} min" if minutes >= 1 else f" · ETA {minutes * 60:.0f} s"
    doubt = f" · {p.in_doubt:,} in doubt" if p.in_doubt else ""
    return (f"{p.leads - p.to_send:,}/{p.leads:,} leads ({rate:,.0f}/min) · triggered "
            f"{p.triggered:,} · skipped {p.skipped:,}{doubt} · runs {p.finished_runs:,}/"
            f"{p.runs:,} finished · 429s {p.rate_limited} · retries {p.retries}{eta}"
            f"{waiting(p.waiting_s)}")


class ProcessDisplay(LiveDisplay):
    last: ProcessProgress | None = None

    def update(self, p: ProcessProgress) -> None:
        self.last = p
        if p.phase == "tracking runs":
            percent = 100 * p.finished_runs / p.runs if p.runs else None
        else:
            percent = 100 * (p.leads - p.to_send) / p.leads if p.leads else None
        self.show(p.phase, percent, describe_process(p))


def print_process_summary(report: ProcessReport, console: Console | None = None) -> None:
    console = console or Console()
    counts = [("leads", report.leads), ("triggered", report.triggered),
              ("skipped", report.skipped), ("not found", report.not_found),
              ("rejected", report.rejected), ("unknown", report.unknown),
              ("not sent", report.not_sent), ("runs", report.runs),
              ("completed", report.completed), ("failed", report.failed),
              ("still running" if report.tracked else "not tracked yet", report.running),
              ("status polls", report.polls)]
    console.print(summary_table(f"{report.kind} processing", report.interrupted,
                                 [(k, v) for k, v in counts if v or k in ("leads", "triggered")],
                                 report.requests, report.retries, report.rate_limited,
                                 f"{report.elapsed_s:,.1f} s"))
    for notice in report.notices:
        console.print(f"Note: {shown(notice)}")
    if report.unknown:
        console.print(f"[yellow]{report.unknown:,} lead(s) unknown[/yellow]: a trigger's answer "
                      "was lost and its runs could not be found; --resume --retrigger-unknown "
                      "sends them again.")
    if report.running and not report.tracked:
        console.print(f"Track the runs with: bulkio process status {shown(report.job_dir)} --wait")
    if report.out_path:
        console.print(f"Per lead: {shown(report.out_path)}")
    print_paths(console, report.report_path, report.job_dir)


def print_process_plan(plan: ProcessPlan, console: Console | None = None) -> None:
    console = console or Console()
    runnable = ", ".join(map(str, plan.runnable))
    console.print(f"{plan.kind}: {shown(runnable)} can run (the company's {plan.settings_kind} "
                  "settings)")
    if plan.not_configured:
        skipped = ", ".join(map(str, plan.not_configured))
        console.print(f"skipped for every lead (not configured): {shown(skipped)}")
    console.print(f"leads selected: {plan.selected:,}; to trigger: {plan.to_trigger:,}; every "
                  f"target field already filled (skipped): {plan.already_filled:,}")
    if plan.filtered_out:
        console.print(f"left out by --where: {plan.filtered_out:,}")
    if plan.missing:
        console.print(f"ids of --leads not in the client (not found): {plan.missing:,}")
    when = ""
    if plan.per_minute:
        when = f": {minutes_text(plan.requests / plan.per_minute)} at {plan.per_minute:,.0f} a minute"
    console.print(f"about {plan.requests:,} requests{when}")
    console.print("Dry run: nothing was triggered.")
