"""A processing job: its options and its job directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ...errors import ConfigError
from ...store.process_journal import ProcessJournal
from .. import jobs
from ..rules import differences
from .plan import ProcessSpec

DEFAULT_WAIT_TIMEOUT_S = 3600.0


@dataclass(frozen=True)
class ProcessOptions:
    """Everything `bulkio process` can be told, besides the spec and the connection."""

    wait: bool = False  # track every run to a final state
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT_S  # a run not final this long after it started
    settle: float = 30.0  # the server's own timeout: a lost trigger is looked up this long
    retrigger_unknown: bool = False
    again: bool = False  # a finished job's leads are triggered again, as a new job
    resume: bool = False
    report: Path | None = None
    out: Path | None = None
    job_dir: Path | None = None


#: How the user writes each part of a processing job's fingerprint.
FLAGS = {"kind": "the kind", "items": "--services/--processes/--fields", "client": "--client",
         "leads_file": "--leads (the file's contents)", "overwrite": "--overwrite",
         "where": "--where"}


def shown(key: str, value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "(none)"
    return "(not given)" if value is None else str(value).lower() if isinstance(value, bool) \
        else str(value)


def open_process_job(spec: ProcessSpec, options: ProcessOptions
                     ) -> tuple[Path, ProcessJournal, bool]:
    """The job directory and its journal, and whether this run resumes an earlier one."""
    fingerprint = spec.fingerprint()
    label = f"{spec.kind}-{spec.client or 'leads'}"
    job_dir = options.job_dir or jobs.default_job_dir(
        "process", label, orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS).decode())
    if not options.again and _finished(job_dir):
        # Unlike an import's rows, triggers are not harmless to repeat: each spends credits.
        raise ConfigError(f"this processing has already run (job {job_dir}): its leads were "
                          f"triggered. Track its runs with `bulkio process status {job_dir} "
                          "--wait`, or add --again to trigger them all again as a new job")
    journal, resumed = jobs.open_job(
        job_dir, "journal.db", ProcessJournal, resume=options.resume, fingerprint=fingerprint,
        what=f"{spec.kind} processing",
        mismatch=lambda recorded: differences(recorded, fingerprint, FLAGS, shown,
                                              f"{spec.kind} processing in {job_dir}"))
    if not resumed:
        journal.set_meta(fingerprint=fingerprint, kind=spec.kind, items=list(spec.items),
                         overwrite=spec.overwrite)
    return job_dir, journal, resumed


def _finished(job_dir: Path) -> bool:
    path = job_dir / "journal.db"
    if not path.exists():
        return False
    probe = ProcessJournal(path)
    try:
        return probe.finished()
    finally:
        probe.close()


def open_existing(job_dir: Path) -> ProcessJournal:
    """A processing job's journal for `bulkio process status`, locked like any job."""
    path = job_dir / "journal.db"
    if not path.exists():
        raise ConfigError(f"no processing job in {job_dir}: give the job directory that a "
                          "`bulkio process` run printed at its end")
    lock = jobs.JobLock(job_dir, "processing job")
    journal = ProcessJournal(path)
    journal.lock = lock
    return journal
