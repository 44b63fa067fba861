"""A purge job: its options and its job directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...store.purge_spool import PurgeSpool
from .. import jobs


@dataclass(frozen=True)
class PurgeOptions:
    """Everything `bulkio purge` can be told, besides the connection settings."""

    delete_client: bool = False  # delete the client record once no lead is left
    resume: bool = False
    report: Path | None = None
    job_dir: Path | None = None


def open_purge_job(slug: str, options: PurgeOptions) -> tuple[Path, PurgeSpool, bool]:
    """The job directory and its spool, and whether this run resumes an earlier one."""
    job_dir = options.job_dir or jobs.default_job_dir("purge", slug, slug)
    spool, resumed = jobs.open_job(
        job_dir, "spool.db", PurgeSpool, resume=options.resume, fingerprint={"client": slug},
        what=f"purge of {slug}",
        mismatch=f"the job in {job_dir} purges another client; give its own --job-dir")
    if not resumed:
        spool.set_meta(fingerprint={"client": slug})
    return job_dir, spool, resumed
