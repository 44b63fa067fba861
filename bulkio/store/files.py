"""Files that hold lead data: private whatever the umask, and never half-written.

Every directory bulkio makes for jobs and data is 0700 and every file in it 0600; a file it
writes where the user points it (`--out`, `--rejects`, `--report`) is created 0600 too. A
job or data directory left readable by an earlier version is tightened when it is opened.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from ..errors import ConfigError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner can enter: made 0700 with any missing parent
    (the umask cannot widen it), or an existing one of ours restricted to 0700."""
    make_dirs(path)
    _restrict(path)
    return path


def make_dirs(path: Path) -> Path:
    """The directories of `path` that do not exist yet, made 0700 (one given for an output
    file); those that exist are the user's, and left as they are."""
    missing = []
    walk = path
    while not walk.exists() and walk != walk.parent:
        missing.append(walk)
        walk = walk.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR)
        _restrict(folder)  # mkdir's mode passes through the umask, which only narrows it
    return path


def tighten(path: Path) -> None:
    """Make what a job or data directory holds private: files 0600, directories 0700 (left
    readable by an earlier version). Only for a directory bulkio made: one with its `lock`;
    symbolic links are left alone."""
    if not (path / "lock").is_file():
        return
    for root, folders, files in os.walk(path):
        for name in (*folders, *files):
            _restrict(Path(root) / name)


def private_file(path: Path) -> Path:
    """`path` created empty with mode 0600 if it does not exist, else made private."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        _restrict(path)
    return path


def _restrict(path: Path) -> None:
    """Take the group's and others' rights away from a file or directory of ours."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        return
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        os.chmod(path, mode & 0o700)


def atomic_write(path: Path, data: bytes, *, mode: int = PRIVATE_FILE) -> None:
    """Write `data` to a temporary file beside `path`, fsync, then rename over `path`.

    The file is private (0600, before any byte is written) unless `mode` says otherwise.
    """
    make_dirs(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_file(path: Path | None, flag: str) -> None:
    """Refuse, before any request, a file bulkio could not write at the end (its work paid
    for): ConfigError in one line naming the path and what is wrong with it."""
    if path is None or str(path) == "-":
        return
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a directory: give a file's path")
    if path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
        except OSError as exc:
            raise ConfigError(f"{flag} {path} cannot be written ({exc.strerror}): choose "
                              "another path") from None
        return
    _check_can_create(path.parent, flag, path)


def check_output_dir(path: Path | None, flag: str) -> None:
    """Refuse, before any request, a directory (a job's, the service's data) bulkio could not
    make or write files in, in one line naming it and what is wrong."""
    if path is None:
        return
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path} is a file, not a directory: give a directory's path")
    _check_can_create(path, flag, path)


def _check_can_create(folder: Path, flag: str, shown: Path) -> None:
    """A file can be made in `folder`, or `folder` itself under its nearest existing parent:
    tried for real (a read-only file system or /proc say no even to root)."""
    walk = folder
    while not walk.exists() and walk != walk.parent:
        walk = walk.parent
    if not walk.is_dir():
        raise ConfigError(f"{flag} {shown}: {walk} is a file, not a directory; choose another "
                          "path")
    try:
        if walk == folder:
            fd, probe = tempfile.mkstemp(dir=walk, prefix=".bulkio-probe-")
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(dir=walk, prefix=".bulkio-probe-"))
    except OSError as exc:
        raise ConfigError(f"{flag} {shown}: bulkio cannot create files in {walk} "
                          f"({exc.strerror}); choose another path") from None
