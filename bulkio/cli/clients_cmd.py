"""`bulkio clients`: the company's clients, with the slug every lead operation needs."""

from __future__ import annotations

import argparse

import orjson
from rich.console import Console
from rich.table import Table

from .exit import OK
from .options import add_connection_options, add_output_options, add_quota_options, settings_from_args
from .shown import shown


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "clients", help="list clients: name, slug (client_id) and id (UUID)",
        description="List the company's clients. Lead operations take the slug (client_id); "
                    "the UUID (id) is only for the client record itself.")
    p.add_argument("--counts", action="store_true",
                   help="also count each client's leads (pages through them: costs requests)")
    p.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    add_connection_options(p)
    add_quota_options(p)
    add_output_options(p)
    p.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    from ..leadgenius.client import open_client

    settings = settings_from_args(args)
    async with open_client(settings) as client:
        clients = await client.list_clients()
        counts = {c.slug: await client.count_leads(c.slug) for c in clients} if args.counts else {}
    if args.json:
        for c in clients:
            row: dict[str, str | int] = {"client_id": c.slug, "id": c.id, "clientName": c.name}
            if args.counts:
                row["leads"] = counts[c.slug]
            print(orjson.dumps(row).decode())
        return OK
    table = Table(title=f"{len(clients)} clients at {settings.base_url}")
    table.add_column("name")
    table.add_column("slug (client_id)", no_wrap=True)
    table.add_column("id (UUID)", no_wrap=True, min_width=36)  # never truncate an identifier
    if args.counts:
        table.add_column("leads", justify="right")
    for c in clients:
        table.add_row(shown(c.name), shown(c.slug), shown(c.id),
                      *([f"{counts[c.slug]:,}"] if args.counts else []))
    Console().print(table)
    return OK
