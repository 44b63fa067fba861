"""What the demo scripts share: running `bulkio` commands and servers, and saying what runs."""

from __future__ import annotations

import signal
import subprocess
import sys

import orjson


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m" if sys.stdout.isatty() else f"\n== {text}", flush=True)


def bulkio(env: dict[str, str], *argv: str, ok: tuple[int, ...] = (0,)) -> None:
    """Run one command, shown first; stop the demo if it fails."""
    print(f"$ bulkio {' '.join(argv)}", flush=True)
    result = subprocess.run([sys.executable, "-m", "bulkio", *argv], env=env, check=False)
    if result.returncode not in ok:
        raise SystemExit(f"demo: `bulkio {' '.join(argv)}` exited with {result.returncode}")


def started(argv: list[str], env: dict[str, str] | None = None
            ) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """A `bulkio sandbox` or `bulkio serve` process, and the JSON line it prints once listening."""
    proc = subprocess.Popen([sys.executable, "-m", "bulkio", *argv], stdout=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait()
        raise SystemExit(f"demo: `bulkio {argv[0]}` did not start")
    return proc, orjson.loads(line)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
