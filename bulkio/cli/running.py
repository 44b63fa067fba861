"""What every long command does around its operation: close the live display, and on an
interruption or a failure after work began, print the command that resumes."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from ..errors import AuthError, ConfigError

R = TypeVar("R")


class Display(Protocol):
    def close(self) -> None: ...


def resume_command(args: argparse.Namespace) -> str:
    """The command line that resumes this run (from the argv `main` stored on args)."""
    return "bulkio " + shlex.join([a for a in args.argv if a != "--resume"] + ["--resume"])


async def run_operation(args: argparse.Namespace, display: Display, operation: Awaitable[R], *,
                        what: str, resumable: Callable[[BaseException], bool]) -> R:
    """Await `operation` (an import, export or purge); `resumable(error)` says whether a
    failure left a job worth resuming (never a configuration or credentials error: those are
    fixed first, and one line says how)."""
    try:
        report = await operation
    except BaseException as error:
        display.close()
        if resumable(error) and not isinstance(error, (ConfigError, AuthError)):
            print(f"bulkio: to continue this {what}, run: {resume_command(args)}",
                  file=sys.stderr)
        raise
    display.close()
    return report
