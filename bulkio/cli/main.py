"""`bulkio`: the entry point. Parses, configures logging, runs one command, maps the outcome."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

import anyio

from ..version import __version__
from . import auth_cmd, clients_cmd, export_cmd, import_cmd, purge_cmd, sandbox_cmd
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
    for module in (auth_cmd, clients_cmd, import_cmd, export_cmd, purge_cmd, sandbox_cmd):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # for commands that print a command to run next (import --resume)
    configure_logging(args)
    try:
        code: int = anyio.run(args.handler, args, backend="asyncio")
        return code
    except (Exception, KeyboardInterrupt) as error:
        return exit_code_for(error, debug=getattr(args, "debug", False))


if __name__ == "__main__":
    sys.exit(main())
