"""`bulkio`: the entry point. Parses, configures logging, runs one command, maps the outcome."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

import anyio

from ..version import __version__
from . import (
    auth_cmd,
    clients_cmd,
    emails_cmd,
    export_cmd,
    import_cmd,
    process_cmd,
    purge_cmd,
    sandbox_cmd,
    serve_cmd,
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
    for module in (auth_cmd, clients_cmd, import_cmd, export_cmd, purge_cmd, process_cmd,
                   emails_cmd, serve_cmd, sandbox_cmd):
        module.register(commands)
    return parser


async def run_command(args: argparse.Namespace) -> int:
    """The command's handler, with SIGTERM taken as Ctrl-C: what `timeout`, systemd, docker
    and CI send to stop a process ends it the way an interruption does (outcomes recorded,
    report written, the resume command printed, exit 130)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None

    def terminate() -> None:
        args.terminated = True
        task.cancel()  # as asyncio's runner does on SIGINT: a cancellation of the main task

    handled = threading.current_thread() is threading.main_thread()  # (tests run main elsewhere)
    if handled:
        loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        code: int = await args.handler(args)
        return code
    finally:
        if handled:
            loop.remove_signal_handler(signal.SIGTERM)


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
