"""`bulkio campaign`: LeadGenius's legacy enrichment campaigns (their own key and quota)."""

from __future__ import annotations

import argparse

import orjson
from rich.console import Console
from rich.table import Table

from .campaign_download import add_download
from .campaign_upload import add_upload
from .exit import OK
from .legacy_options import add_legacy_options, legacy_settings
from .options import add_output_options
from .shown import shown


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "campaign", help="enrichment campaigns of LeadGenius's legacy API: upload, download, status",
        description="Enrichment campaigns of LeadGenius's legacy enrichment API, which has a "
                    "key and a quota of its own (50 requests a minute): "
                    "LEADGENIUS_LEGACY_API_KEY or --legacy-key-file, and "
                    "LEADGENIUS_LEGACY_BASE_URL or --legacy-base-url.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = actions.add_parser(
        "status", help="the subscription's usage, and a campaign's counts",
        description="The subscription's usage (total, and this period's uploaded, enriched "
                    "and remaining records, with the period's dates); with a campaign's slug, "
                    "its records uploaded and enriched.")
    status.add_argument("slug", nargs="?", metavar="SLUG", help="a campaign's slug")
    status.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    add_legacy_options(status)
    add_output_options(status)
    status.set_defaults(handler=run_status)
    add_upload(actions)
    add_download(actions)


async def run_status(args: argparse.Namespace) -> int:
    from ..enrichment.client import open_enrichment
    from ..ops.campaigns.download import machine_progress

    settings = legacy_settings(args)
    async with open_enrichment(settings) as api:
        usage = await api.usage()
        campaign = await api.records(args.slug) if args.slug else None
        mine = await machine_progress(api, args.slug, campaign) if campaign else None
    period = usage["current_period"]
    if args.json:
        out = {"usage": usage}
        if campaign is not None:
            out["campaign"] = {"slug": args.slug, "count_uploaded": campaign.get("count_uploaded"),
                               "count_enriched": campaign.get("count_enriched")}
            if mine is not None:
                out["campaign"].update(uploaded_here=mine[0], finalized_here=mine[1],
                                       finalized_here_is_current=mine[2])
        print(orjson.dumps(out).decode())
        return OK
    table = Table(title=f"legacy enrichment usage at {settings.base_url}")
    for name in ("", "uploaded", "enriched", "remaining"):
        table.add_column(name, justify="right" if name else "left")
    total = usage.get("total") or {}
    table.add_row("all time", f"{total.get('uploaded', 0):,}", f"{total.get('enriched', 0):,}", "")
    table.add_row(f"{shown(str(period.get('start_date', '')))[:10]} to "
                  f"{shown(str(period.get('end_date', '')))[:10]}",
                  f"{period.get('uploaded', 0):,}", f"{period.get('enriched', 0):,}",
                  f"{period.get('remaining', 0):,}")
    if campaign is not None:
        table.add_row(f"campaign {shown(args.slug)}", f"{campaign.get('count_uploaded', 0):,}",
                      f"{campaign.get('count_enriched', 0):,}", "")
    if mine is not None and mine[0]:
        when = "" if mine[2] else " (at the last download)"
        table.add_row("uploaded from this machine", f"{mine[0]:,}",
                      f"{mine[1]:,} finalized{when}", "")
    Console().print(table)
    return OK
