"""The library entry points for processing: `process_leads`, `dry_run_process` and
`process_status` (async); email checks are in `bulkio.api.emails`.

Like every entry point in `bulkio.api`, these fall back to the environment
(`resolve_settings`) when no settings are given.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..http.retry import RetryPolicy
from ..leadgenius.client import open_client
from ..leadgenius.processing import PROCESS_KINDS
from ..leadgenius.settings import Settings, resolve_settings
from ..ops.jobs import check_outputs, job_log
from ..ops.process.job import ProcessOptions, open_existing, open_process_job
from ..ops.process.plan import Plan, ProcessSpec, Where, read_settings, select
from ..ops.process.processor import NothingToTrigger, Processor, finish_report
from ..ops.process.report import ProcessPlan, ProcessProgress, ProcessReport
from ..ops.process.tracking import Tracker
from ..ops.runs import job_totals
from ..store.serial import Serial
from .running import options_of, run_job, run_operation

POLLS_PER_RUN = 2  # about, with --wait (see ops.process.tracking)


def make_spec(kind: str, items: Any, *, client: str | None = None,
              leads_file: str | Path | None = None, where: Any = (),
              overwrite: bool = False) -> ProcessSpec:
    if kind not in PROCESS_KINDS:
        raise ConfigError(f"unknown processing {kind!r}: one of {', '.join(PROCESS_KINDS)}")
    if client is None and leads_file is None:
        raise ConfigError("name the leads: --client SLUG (every lead of the client), --leads "
                          "FILE, or both (those leads of that client)")
    conditions = tuple(w if isinstance(w, Where) else Where.parse(str(w)) for w in where)
    if conditions and client is None:
        raise ConfigError("--where needs --client: it is evaluated on the client's listing")
    return ProcessSpec(kind=kind, items=tuple(items), client=client,
                       leads_file=Path(leads_file) if leads_file is not None else None,
                       where=conditions, overwrite=overwrite)


async def process_leads(spec: ProcessSpec, *, settings: Settings | None = None,
                        options: ProcessOptions | None = None,
                        on_progress: Callable[[ProcessProgress], None] | None = None,
                        policy: RetryPolicy | None = None, **option_values: Any) -> ProcessReport:
    """Trigger `spec.kind` processing for every selected lead, each once, and (wait=True)
    track every run to its end. Safe to run again with resume=True after a crash.

    Example:
        spec = bulkio.make_spec("enrich", ["companyUrl", "enrichment1"], client="acme-corp")
        report = await bulkio.process_leads(spec, wait=True)
        print(report.triggered, report.completed, report.failed)
    """
    options = options_of(options or ProcessOptions(), option_values)
    check_outputs(options.job_dir, out=options.out, report=options.report)
    settings = settings or resolve_settings()
    async with open_client(settings, policy=policy) as api:
        if spec.client is not None:
            spec = replace(spec, client=(await api.resolve_client(spec.client)).slug)
        plan = await read_settings(api, spec)  # before the job: nothing to resume if none runs
        job_dir, journal, resumed = open_process_job(spec, options)
        processor = Processor(
            api, journal, job_dir, spec, plan, wait=options.wait,
            wait_timeout=options.wait_timeout, settle_s=options.settle,
            retrigger_unknown=options.retrigger_unknown, resumed=resumed,
            report_path=options.report, out_path=options.out, on_progress=on_progress)
        return await run_job(job_dir, journal, processor.run, nothing_done=NothingToTrigger)


async def dry_run_process(spec: ProcessSpec, *, settings: Settings | None = None,
                          wait: bool = False) -> ProcessPlan:
    """What a processing job would do: the settings read, the client listed; nothing sent
    but those reads."""
    settings = settings or resolve_settings()
    async with open_client(settings) as api:
        if spec.client is not None:
            spec = replace(spec, client=(await api.resolve_client(spec.client)).slug)
        plan: Plan = await read_settings(api, spec)
        async for _ in select(api, spec, plan):
            pass
        runs = plan.to_trigger * len(plan.runnable) if spec.kind != "sdr" else plan.to_trigger
        requests = plan.to_trigger + (POLLS_PER_RUN * runs if wait else 0)
        return ProcessPlan(kind=spec.kind, runnable=plan.runnable,
                           not_configured=plan.not_configured, settings_kind=plan.settings_kind,
                           selected=plan.selected, to_trigger=plan.to_trigger,
                           already_filled=plan.already_filled, filtered_out=plan.filtered_out,
                           missing=plan.missing, requests=requests,
                           per_minute=api.quota.per_minute)


async def process_status(job_dir: str | Path, *, settings: Settings | None = None,
                         wait: bool = False, wait_timeout: float = math.inf,
                         report: str | Path | None = None, out: str | Path | None = None,
                         policy: RetryPolicy | None = None) -> ProcessReport:
    """Poll the open runs of a processing job once (wait=True: until each is final, or
    `wait_timeout` after it started), then write its report and results again."""
    job_dir = Path(job_dir)
    settings = settings or resolve_settings()
    journal = open_existing(job_dir)
    started = time.monotonic()
    serial = Serial()
    try:
        meta = journal.meta()
        async with open_client(settings, policy=policy) as api:
            with job_log(job_dir):
                tracker = Tracker(api, journal, serial, wait_timeout=wait_timeout,
                                  concurrency=api.settings.effective_concurrency)
                tracker.triggering_over()
                await serial(journal.poll_open_now)
                if wait:
                    await run_operation(tracker.run())
                else:
                    await run_operation(tracker.poll_due_once())
                totals = job_totals(meta.get("stats", {}), api.stats, started)
                await serial(journal.set_meta, stats=totals)
                return await finish_report(
                    journal, serial, totals, job_dir, str(meta.get("kind", "")), tracked=wait,
                    report_path=Path(report) if report else None,
                    out_path=Path(out) if out else None)
    finally:
        journal.close()
