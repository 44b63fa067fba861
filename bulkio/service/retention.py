"""How long the service keeps lead data: uploads, job inputs and finished jobs' files are
deleted `--keep-days` after they were made or ended (at start, then every hour); the job
history keeps their counts, and a file asked for after that answers 410 saying why."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import anyio

from .store import ServiceStore

log = logging.getLogger("bulkio.service")

SWEEP_EVERY_S = 3600.0
DAY_S = 86_400.0


def sweep(store: ServiceStore, data_dir: Path, keep_days: float, *,
          now: float | None = None) -> tuple[int, int]:
    """Delete what is older than `keep_days` (0: keep everything): (uploads, jobs) deleted."""
    if keep_days <= 0:
        return 0, 0
    cutoff = (time.time() if now is None else now) - keep_days * DAY_S
    uploads = 0
    for path in (data_dir / "uploads").glob("*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            uploads += 1
    ended = store.ended_before(cutoff)
    for job_id in ended:
        shutil.rmtree(job_dir(data_dir, job_id), ignore_errors=True)
    store.mark_files_deleted(ended)
    if uploads or ended:
        log.info("deleted %d upload(s) and the files of %d job(s) kept more than %g days "
                 "(--keep-days)", uploads, len(ended), keep_days)
    return uploads, len(ended)


def job_dir(data_dir: Path, job_id: str) -> Path:
    return data_dir / "jobs" / job_id


async def keep_sweeping(store: ServiceStore, data_dir: Path, keep_days: float) -> None:
    """Sweep every hour; a failed sweep is logged, and the next one comes all the same."""
    while keep_days > 0:
        await anyio.sleep(SWEEP_EVERY_S)
        try:
            sweep(store, data_dir, keep_days)
        except Exception:
            log.exception("deleting old files failed; trying again in an hour")


def gone(keep_days: float) -> str:
    return (f"the job's files were deleted {keep_days:g} days after it ended (bulkio serve "
            "--keep-days); its counts are kept")
