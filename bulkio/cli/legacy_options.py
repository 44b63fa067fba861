"""The legacy enrichment API's options (its own address, key and quota), defined once."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..enrichment.settings import EnrichmentSettings


def add_legacy_options(parser: argparse.ArgumentParser, *, insecure: bool = True) -> None:
    """The legacy API's address, key and quota; `insecure` False where the Pro connection's
    options (which have --insecure too) are added beside them: one flag serves both."""
    g = parser.add_argument_group("legacy enrichment API")
    g.add_argument("--legacy-base-url", metavar="URL",
                   help="its address (default: LEADGENIUS_LEGACY_BASE_URL, else "
                        "https://leadgenius.com)")
    g.add_argument("--legacy-key-file", metavar="PATH",
                   help="a file holding its key (default: LEADGENIUS_LEGACY_API_KEY)")
    g.add_argument("--legacy-rate", metavar="N|unlimited",
                   help="its requests a minute (default: 50, as documented)")
    if insecure:
        g.add_argument("--insecure", action="store_true",
                       help="allow http:// to an address that is not this machine")


def legacy_settings(args: argparse.Namespace) -> EnrichmentSettings:
    from ..enrichment.settings import resolve_enrichment_settings

    return resolve_enrichment_settings(base_url=args.legacy_base_url,
                                       key_file=args.legacy_key_file, rate=args.legacy_rate,
                                       insecure=args.insecure)
