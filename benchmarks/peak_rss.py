"""Run a command and print its exit code and peak RSS as JSON, from a process of its own.

    python -m benchmarks.peak_rss CMD [ARGS...]

Why a helper: a child's ru_maxrss counts the pages it shares with its parent between fork and
exec, so a command started from a large process (a benchmark runner that has held a million
payloads) reports the runner's size, not its own. This helper is small; its children are not
inflated.
"""

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_measured(command: Sequence[str], env: Mapping[str, str]) -> tuple[int, float]:
    """Run `command` through this helper: its exit code and peak RSS in MB."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.peak_rss", *command], env=dict(env),
                          capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(done.stdout.splitlines()[-1])
    return int(result["exit_code"]), result["peak_rss_kb"] / 1024


if __name__ == "__main__":
    proc = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(proc.pid, 0)
    print(json.dumps({"exit_code": os.waitstatus_to_exitcode(status),
                      "peak_rss_kb": usage.ru_maxrss}))
