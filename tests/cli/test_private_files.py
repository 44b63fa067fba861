"""Personal data stays private on disk, whatever the umask: real bulkio processes run under
umask 022 (the usual one), and every directory they make for jobs is 0700, every file in it
and every output the user points them to 0600, read back with stat."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import anyio
import pytest

from bulkio.sandbox import Sandbox, SandboxConfig
from bulkio.store.db import connect
from bulkio.store.files import make_dirs, private_dir, private_file, tighten
from tests.processes import environment


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None, clients=1, leads=20)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def modes_under(top: Path) -> dict[str, int]:
    """Every directory and file under `top` (itself included), by path, with its mode."""
    found = {str(top): mode(top)}
    for root, folders, files in os.walk(top):
        for name in (*folders, *files):
            found[os.path.join(root, name)] = mode(Path(root) / name)
    return found


def assert_private(top: Path) -> None:
    wrong = {p: oct(m) for p, m in modes_under(top).items()
             if m != (0o700 if os.path.isdir(p) else 0o600)}
    assert not wrong, wrong


async def bulkio_022(sb: Sandbox, tmp_path: Path, *argv: str) -> None:
    """`bulkio argv` as a real process under umask 022, in `tmp_path`."""
    command = ["sh", "-c", 'umask 022 && exec "$@"', "sh", sys.executable, "-m", "bulkio",
               *argv, "--base-url", sb.base_url, "--rate", "unlimited", "--quiet"]
    with anyio.fail_after(60):
        done = await anyio.run_process(command, env=environment(sb, tmp_path), cwd=tmp_path,
                                       check=False)
    assert done.returncode in (0, 1), done.stderr.decode()


async def test_jobs_and_outputs_are_private_under_umask_022(sandbox: Sandbox,
                                                          tmp_path: Path) -> None:
    """An import with a rejected row, --report and --rejects where the user says, and an
    export of the client: .bulkio/ and every job directory 0700, each file in them (journals
    and their WAL files, logs, locks, the mapping's copy) and every output 0600."""
    (tmp_path / "in.csv").write_text("email,first_name,last_name\na@x.org,Ann,Lee\nnot-an-email,B,C\n")
    (tmp_path / "map.json").write_text('{"email": "email"}')
    await bulkio_022(sandbox, tmp_path, "import", "in.csv", "--client", "acme-corp",
                     "--settle", "0", "--mapping", "map.json", "--report", "out/report.json",
                     "--rejects", "out/rejects.csv")
    await bulkio_022(sandbox, tmp_path, "export", "--client", "acme-corp",
                     "--out", "out/leads.ndjson")
    jobs = tmp_path / ".bulkio"
    assert {Path(p).name for p in modes_under(jobs)} >= {
        "journal.db", "checkpoint.db", "log.txt", "lock", "mapping.json"}
    assert_private(jobs)
    outputs = {p.name: mode(p) for p in (tmp_path / "out").iterdir()}
    assert outputs == {"report.json": 0o600, "rejects.csv": 0o600, "leads.ndjson": 0o600,
                       "leads.ndjson.manifest.json": 0o600}
    assert mode(tmp_path / "out") == 0o700  # made by bulkio for its outputs


async def test_a_job_left_readable_by_an_earlier_version_is_tightened(
        sandbox: Sandbox, tmp_path: Path) -> None:
    """A job directory whose files are 0644 in 0755 (as 0.1 left them) is made private when
    the job is opened again."""
    (tmp_path / "in.csv").write_text("email\na@x.org\n")
    await bulkio_022(sandbox, tmp_path, "import", "in.csv", "--client", "acme-corp",
                     "--settle", "0", "--job-dir", "job")
    job = tmp_path / "job"
    for path in modes_under(job):
        os.chmod(path, 0o755 if os.path.isdir(path) else 0o644)
    await bulkio_022(sandbox, tmp_path, "import", "in.csv", "--client", "acme-corp",
                     "--settle", "0", "--job-dir", "job")  # finished: archived, a new one
    assert_private(job)
    archived = [p for p in tmp_path.iterdir() if p.name.startswith("job.")]
    assert archived and all(m == (0o700 if os.path.isdir(p) else 0o600)
                            for p, m in modes_under(archived[0]).items())


def test_the_helpers_under_umask_022(tmp_path: Path) -> None:
    """private_dir and make_dirs make what is missing 0700; private_file makes 0600; tighten
    only touches a directory bulkio made (one with its lock), never a symbolic link's target."""
    old = os.umask(0o022)
    try:
        deep = private_dir(tmp_path / "a" / "b")
        assert mode(tmp_path / "a") == mode(deep) == 0o700
        users = tmp_path / "mine"
        users.mkdir(mode=0o755)
        make_dirs(users / "out")
        assert (mode(users), mode(users / "out")) == (0o755, 0o700)  # theirs stays theirs
        assert mode(private_file(deep / "f")) == 0o600
        outside = tmp_path / "outside.txt"
        outside.write_text("x")
        os.chmod(outside, 0o644)
        (deep / "link").symlink_to(outside)
        (deep / "g").write_text("x")
        tighten(deep)  # no lock: not bulkio's, left alone
        assert mode(deep / "g") == 0o644
        private_file(deep / "lock")
        tighten(deep)
        assert mode(deep / "g") == 0o600 and mode(outside) == 0o644
        db = connect(tmp_path / "jobs" / "j" / "journal.db", "CREATE TABLE t (x);")
        db.execute("INSERT INTO t VALUES (1)")  # the WAL files exist while it is open
        assert {p.name: mode(p) for p in (tmp_path / "jobs" / "j").iterdir()} == {
            "journal.db": 0o600, "journal.db-wal": 0o600, "journal.db-shm": 0o600}
        db.close()
    finally:
        os.umask(old)
