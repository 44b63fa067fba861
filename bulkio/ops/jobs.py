"""Job directories: one per operation and target, found again by the same command.

A job holds one SQLite file (an import's journal, an export's checkpoint, a purge's spool)
whose meta says what the job is (`fingerprint`) and whether it finished (`status`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..errors import ConfigError
from ..redact import RedactingFilter

JOBS_DIR = Path(".bulkio") / "jobs"


class HasMeta(Protocol):
    def meta(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


D = TypeVar("D", bound=HasMeta)


def default_job_dir(operation: str, label: str, identity: str) -> Path:
    """`.bulkio/jobs/<operation>-<label>-<hash of identity>`: readable, and unique per target."""
    digest = hashlib.sha1(identity.encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or operation
    return JOBS_DIR / f"{operation}-{slug}-{digest}"


@contextmanager
def job_log(job_dir: Path) -> Iterator[Path]:
    """Append the run's log to JOB/log.txt, secrets redacted: what the bulkio logger lets
    through (the CLI: everything from INFO up, every repaired row among it)."""
    path = job_dir / "log.txt"
    job_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("bulkio")
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()


def open_job(job_dir: Path, filename: str, opener: Callable[[Path], D], *, resume: bool,
             fingerprint: dict[str, Any], what: str, mismatch: str) -> tuple[D, bool]:
    """The job's database, and whether this run resumes an earlier one.

    Refuses (ConfigError) to start over an unfinished job without --resume, to resume a job
    that does not exist, or to resume one whose fingerprint differs (`mismatch` says why).
    A finished job is archived beside itself and a new one starts.
    """
    path = job_dir / filename
    if not path.exists():
        if resume:
            raise ConfigError(f"nothing to resume in {job_dir}: run the same command without "
                              "--resume to start, or give the --job-dir of the earlier run")
        return opener(path), False
    db = opener(path)
    meta = db.meta()
    if "fingerprint" not in meta:  # left by a run that stopped before it began: start afresh
        return db, False
    if resume:
        if meta["fingerprint"] != fingerprint:
            db.close()
            raise ConfigError(mismatch)
        return db, True
    db.close()
    if meta.get("status") == "finished":
        shutil.move(job_dir, job_dir.with_name(f"{job_dir.name}.{time.strftime('%Y%m%d-%H%M%S')}"))
        return opener(path), False
    raise ConfigError(f"an unfinished {what} is in {job_dir}; add --resume to finish it, or "
                      "give another --job-dir to start over")
