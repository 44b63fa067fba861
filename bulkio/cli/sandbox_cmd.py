"""`bulkio sandbox`: serve the local twin of the API."""

from __future__ import annotations

import argparse

from ..sandbox.config import LOOPBACK, add_knob_arguments, config_from_args
from .exit import OK
from .options import add_output_options


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "sandbox", help="run a local twin of the LeadGenius Pro API, quirks and quota included",
        description="Serve a faithful local twin of the LeadGenius Pro API for tests and "
                    "rehearsals. Once listening it prints one JSON line on stdout: base_url, "
                    "email, password, api_key, user_id, company_id, token. Then it serves "
                    "until interrupted.")
    p.add_argument("--host", default=LOOPBACK, help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8765,
                   help="port to listen on; 0 takes any free port (default: %(default)s)")
    add_knob_arguments(p)
    add_output_options(p)
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    from ..sandbox.server import serve  # only this command needs the server

    await serve(config_from_args(args), args.host, args.port)
    return OK
