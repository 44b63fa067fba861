"""`bulkio`: the entry point. Parses, configures logging, runs one command, maps the outcome."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

import anyio

from ..version import __version__
from . import (
    auth_cmd,
    campaign_cmd,
    clients_cmd,
    emails_cmd,
    exclusions_cmd,
    export_cmd,
    import_cmd,
    process_cmd,
    purge_cmd,
    sandbox_cmd,
    serve_cmd,
    sync_cmd,
)
from .exit import USAGE, exit_code_for
from .options import configure_logging


class Parser(argparse.ArgumentParser):
    """Usage errors in one line that names the fix, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="bulkio",
        description="Bulk import, export and purge for the LeadGenius Pro API, at the full "
                    "quota, losing nothing. Credentials come from `bulkio auth login` or the "
                    "LEADGENIUS_* environment variables.")
    parser.add_argument("--version", action="version", version=f"bulkio {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=Parser)
    for module in (auth_cmd, clients_cmd, import_cmd, sync_cmd, export_cmd, purge_cmd,
                   process_cmd, emails_cmd, campaign_cmd, exclusions_cmd, serve_cmd, sandbox_cmd):
        module.register(commands)
    return parser


STOP_WITHIN_S = 10.0  # a graceful stop that takes longer ends at once


async def run_command(args: argparse.Namespace) -> int:
    """The command's handler, stopped alike by Ctrl-C and SIGTERM (what `timeout`, systemd,
    docker and CI send): the run ends the way an interruption does (outcomes recorded, report
    written, the resume command printed, exit 130). If that takes more than STOP_WITHIN_S
    (a read that never returns), or a second signal comes, the process ends at once, as
    after kill -9: --resume settles what was in flight."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def stop(signum: int, frame: object) -> None:  # runs even while the loop is blocked
        if args.terminated:
            stop_now("a second signal")
        args.terminated = True
        loop.call_soon_threadsafe(task.cancel)
        timer = threading.Timer(STOP_WITHIN_S, stop_now, (f"the stop took over "
                                                          f"{STOP_WITHIN_S:g} s",))
        timer.daemon = True
        timer.start()

    if threading.current_thread() is not threading.main_thread():  # (tests run main elsewhere)
        code: int = await args.handler(args)
        return code
    before = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = await args.handler(args)
        return code
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def stop_now(why: str) -> None:
    """End the process at once (exit 130): what was in flight is settled by --resume."""
    sys.stderr.write(f"bulkio: stopped at once ({why}): run the same command with --resume; "
                     "requests that were in flight are looked up first\n")
    sys.stderr.flush()
    os._exit(130)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # for commands that print a command to run next (import --resume)
    args.terminated = False
    configure_logging(args)
    try:
        return anyio.run(run_command, args, backend="asyncio")
    except asyncio.CancelledError:
        if not args.terminated:
            raise
        return exit_code_for(KeyboardInterrupt(), debug=False)
    except (Exception, KeyboardInterrupt) as error:
        return exit_code_for(error, debug=getattr(args, "debug", False))


if __name__ == "__main__":
    sys.exit(main())
