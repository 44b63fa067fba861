"""Job directories: one per operation and target, found again by the same command.

A job holds one SQLite file (an import's journal, an export's checkpoint, a purge's spool)
whose meta says what the job is (`fingerprint`) and whether it finished (`status`), and a
`lock` file: one process at a time works on a job. The lock is the kernel's (flock), so it
goes with the process that holds it, however that process ends (kill -9 included).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..errors import ConfigError
from ..http.redact import RedactingFormatter, redact
from ..store.db import FINISHED, Releasable
from ..store.files import (
    PRIVATE_FILE,
    check_output_dir,
    check_output_file,
    private_dir,
    private_file,
    tighten,
)

JOBS_DIR = Path(".bulkio") / "jobs"


class HasMeta(Protocol):
    lock: Releasable | None  # the job's lock, released by close()

    def meta(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


class JobBusy(ConfigError):
    """Another process is working on this job now."""


class FileLock:
    """An exclusive lock on a file (the kernel's: released however the process ends, kill -9
    included), which also says who holds it: `busy(holder)` is the error when another does."""

    def __init__(self, path: Path, what: str, busy: Callable[[str], ConfigError]) -> None:
        self.path = path
        try:
            private_dir(path.parent)
            tighten(path.parent)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        except OSError as exc:
            raise ConfigError(f"cannot use {path.parent}: {exc.strerror}; run where you can "
                              "write, or give another directory") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise busy(holder) from None
        command = redact(shlex.join(["bulkio", *sys.argv[1:]]))
        os.ftruncate(fd, 0)
        os.write(fd, f"the {what}, in process {os.getpid()} (`{command}`, started "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n".encode())
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


class JobLock(FileLock):
    """One process per job: JOB/lock."""

    def __init__(self, job_dir: Path, what: str) -> None:
        super().__init__(job_dir / "lock", what, lambda holder: JobBusy(
            f"the {what} in {job_dir} is running now ({holder}): wait for it to end, or stop "
            "it first; two processes on one job would send rows twice"))


class ClientBusy(ConfigError):
    """Another operation writes to, or deletes from, the same client now."""


def state_dir() -> Path:
    """Where bulkio keeps what outlives a job: $BULKIO_STATE_DIR, else the XDG state home."""
    if os.environ.get("BULKIO_STATE_DIR"):
        return Path(os.environ["BULKIO_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "bulkio"


class ClientLock(FileLock):
    """One operation at a time that writes or deletes a client's leads, on this machine (the
    CLI and `bulkio serve` alike): a purge beside an import would delete what the import
    writes, and the import send again what the purge deleted."""

    def __init__(self, base_url: str, company: str, slug: str, what: str) -> None:
        key = hashlib.sha1(f"{base_url}|{company}|{slug}".encode()).hexdigest()[:16]
        super().__init__(state_dir() / "clients" / f"{key}.lock", what, lambda holder: ClientBusy(
            f"{holder} is working on the client {slug} now: wait for it to end (two operations "
            "that write or delete a client's leads at once would undo each other)"))


D = TypeVar("D", bound=HasMeta)


def check_outputs(job_dir: Path | None, **files: str | Path | None) -> None:
    """Refuse, before the first request, a job directory (the default one if None) or an
    output file that could not be written at the end, in one line naming the flag and the
    path: `rejects=...` is checked as --rejects."""
    check_output_dir(Path(job_dir) if job_dir else JOBS_DIR, "--job-dir")
    for name, path in files.items():
        check_output_file(Path(path) if path else None, "--" + name.replace("_", "-"))


def default_job_dir(operation: str, label: str, identity: str) -> Path:
    """`.bulkio/jobs/<operation>-<label>-<hash of identity>`: readable, and unique per target."""
    digest = hashlib.sha1(identity.encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40] or operation
    return JOBS_DIR / f"{operation}-{slug}-{digest}"


@contextmanager
def job_log(job_dir: Path) -> Iterator[Path]:
    """Append the run's log to JOB/log.txt, secrets redacted: what the bulkio logger lets
    through (the CLI: everything from INFO up, every repaired row among it)."""
    path = private_file(private_dir(job_dir) / "log.txt")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(message)s"))
    logger = logging.getLogger("bulkio")
    logger.addHandler(handler)
    try:
        yield path
    finally:
        logger.removeHandler(handler)
        handler.close()


Mismatch = str | Callable[[dict[str, Any]], str]  # why a resume is refused, or what says it


def open_job(job_dir: Path, filename: str, opener: Callable[[Path], D], *, resume: bool,
             fingerprint: dict[str, Any], what: str, mismatch: Mismatch) -> tuple[D, bool]:
    """The job's database, locked for this process until it is closed, and whether this run
    resumes an earlier one.

    Refuses (ConfigError) a job another process is running (JobBusy), to start over an
    unfinished job without --resume, to resume a job that does not exist, or to resume one
    whose fingerprint differs (`mismatch` says why, or makes the message from the job's own
    fingerprint). A finished job is archived beside itself
    (and the log says where) and a new one starts.
    """
    lock = JobLock(job_dir, what)
    try:
        db, resumed = _open_locked(job_dir, filename, opener, resume=resume,
                                   fingerprint=fingerprint, what=what, mismatch=mismatch)
    except BaseException:
        lock.release()
        raise
    if db.lock is not None:  # a new lock was taken on a new directory after archiving
        lock.release()
    else:
        db.lock = lock
    return db, resumed


def _open_locked(job_dir: Path, filename: str, opener: Callable[[Path], D], *, resume: bool,
                 fingerprint: dict[str, Any], what: str, mismatch: Mismatch) -> tuple[D, bool]:
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
            raise ConfigError(mismatch if isinstance(mismatch, str) else mismatch(meta["fingerprint"]))
        return db, True
    db.close()
    if meta.get("status") == FINISHED:
        archived = job_dir.with_name(f"{job_dir.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.move(job_dir, archived)
        logging.getLogger("bulkio.jobs").warning(
            "the earlier %s in %s had finished: it is kept in %s, and this run starts a new job",
            what, job_dir, archived)
        fresh = JobLock(job_dir, what)  # the directory moved with its lock: lock the new one
        db = opener(path)
        db.lock = fresh
        return db, False
    raise ConfigError(f"an unfinished {what} is in {job_dir}; add --resume to finish it, or "
                      "give another --job-dir to start over")
