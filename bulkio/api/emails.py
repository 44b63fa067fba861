"""The library entry point for email checks: `validate_emails` (async)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ..errors import ConfigError
from ..http.retry import RetryPolicy
from ..leadgenius.client import open_client
from ..leadgenius.settings import Settings, resolve_settings
from ..ops import jobs
from ..ops.emails.report import EmailReport
from ..ops.emails.validate import client_rows, validate_rows
from ..ops.imports.email_check import file_rows
from ..sources.files import open_source
from ..store.db import FINISHED
from ..store.email_journal import EmailChecks
from .running import run_operation

CLIENT_PREFIX = "client:"


async def validate_emails(source: str, *, out: str | Path, deep: bool = False,
                          settings: Settings | None = None, job_dir: str | Path | None = None,
                          resume: bool = False, report: str | Path | None = None,
                          mapping: str | None = None, encoding: str | None = None,
                          fmt: str | None = None, policy: RetryPolicy | None = None,
                          on_checked: Callable[[int, int], None] | None = None) -> EmailReport:
    """The checker's verdict (valid, invalid, risky, unknown, and why) for every row of a CSV
    or NDJSON file, or every lead of a client ("client:SLUG"), written one line per row to
    `out` (.ndjson, or .csv). Each distinct address is asked once; deep=True uses
    email-verify. `on_checked(done, distinct)` follows the checks.

    Example:
        report = await bulkio.validate_emails("leads.csv", out="checked.ndjson")
        print(report.valid, report.invalid)
    """
    settings = settings or resolve_settings()
    if source == "-":
        raise ConfigError("emails validate reads a file or client:SLUG, not the standard input")
    jobs.check_outputs(Path(job_dir) if job_dir else None, out=out, report=report)
    label = source.removeprefix(CLIENT_PREFIX) if source.startswith(CLIENT_PREFIX) \
        else Path(source).name
    identity = source if source.startswith(CLIENT_PREFIX) else str(Path(source).resolve())
    directory = Path(job_dir) if job_dir else jobs.default_job_dir(
        "emails", label, f"{identity}|{deep}")
    started = time.monotonic()
    fingerprint = {"source": identity, "deep": deep}
    async with open_client(settings, policy=policy) as api:
        if source.startswith(CLIENT_PREFIX):
            slug = (await api.resolve_client(label)).slug
            rows = await client_rows(api, slug)
        else:
            src = open_source(source, fmt=fmt, encoding=encoding)
            try:
                rows = file_rows(src.reader, mapping)
            finally:
                src.close()
        checks, resumed = jobs.open_job(
            directory, "checks.db", EmailChecks, resume=resume, fingerprint=fingerprint,
            what=f"email check of {source}",
            mismatch=f"the job in {directory} checks another source; give its own --job-dir")
        try:
            if not resumed:
                checks.set_meta(fingerprint=fingerprint)
            stats = checks.meta().get("stats", {})
            with jobs.job_log(directory):
                result = await run_operation(validate_rows(
                    api, rows, checks, deep=deep, out=Path(out), job_dir=directory,
                    report_path=Path(report) if report else None, stats_before=stats,
                    started=started, on_checked=on_checked))
                checks.set_meta(status=FINISHED)
                return result
        finally:
            checks.close()
