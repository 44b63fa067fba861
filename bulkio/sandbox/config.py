"""The sandbox's knobs: one dataclass, and the argparse flags that fill it.

The flags live beside the sandbox (not in bulkio.cli) so the knobs and their flags are defined
once, next to what they configure; `bulkio sandbox` adds them to its parser.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

TIERS = {"standard": 100, "premium": 1000}
LOOPBACK = "127.0.0.1"


@dataclass
class SandboxConfig:
    """Every knob of the sandbox. Mutable on purpose: tests turn quirks on and off mid-run."""

    quota_per_minute: int | None = TIERS["standard"]  # None: unlimited
    token_ttl: float = 3600.0
    api_key: bool = True  # the account starts with an API key (False: a new account's none)
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0  # 500/503 before doing the work
    lost_response_rate: float = 0.0  # does the work, then 502/504 or a dropped connection
    drop_rate: float = 0.0  # drops the connection before doing the work
    chaos_only: tuple[str, ...] = ()  # the three above hit only these routes ("POST /api/leads",
    #                                   or a path for every method); (): every request
    batch_persist: float = 0.0  # fraction of batch-POSTed leads actually stored
    batch_drop_mode: str = "random"  # random: each lead kept with batch_persist; all: each batch
    batch_persist_delay_ms: tuple[float, float] = (0.0, 0.0)  # a kept batch is stored this late
    # Every created lead (single or batch) enters listings this long after its 201: a listing
    # that lags behind writes (the API documents no freshness for its listings).
    listing_lag_ms: tuple[float, float] = (0.0, 0.0)
    single_persist: float = 1.0  # fraction of single-POSTed leads actually stored (rehearsals)
    batch_delete_drop: float = 0.0  # fraction of batch-DELETE ids silently not deleted
    purge_limit: int = 1000  # purge=true answers 504 above this many leads
    envelope: str = "flat"  # bulk list answer: flat or wrapped
    page_repeat: float = 0.0  # chance a later bulk page repeats the previous page's last record
    cursor_name: str = "nextToken"  # the JWT lead list's cursor key: nextToken or lastKey
    run_seconds: tuple[float, float] = (5.0, 30.0)  # how long a processing run takes
    run_failure_rate: float = 0.0  # chance a processing run ends FAILED
    # The API documents no format for a run's taskIdentifier: "kind" names it as
    # "enrich:companyUrl", "opaque" as a name that says nothing a client could parse.
    task_names: str = "kind"
    clock_skew_s: float = 0.0  # the server's clock minus the real one (createdAt, batchTag)
    processing_settings: bool = False  # settings for a few services (processing.seed_settings)
    clients: int = 0  # clients made at start, with fake data
    leads: int = 0  # enrich leads in all, spread over those clients
    source_leads: int = 0  # source leads in all, spread over those clients
    db: str | None = None  # SQLite file; None keeps everything in memory
    chaos_seed: int | None = None
    email: str = "demo@sandbox.local"
    # The HubSpot twin, on the same port:
    hubspot_contacts: int = 0  # CRM contacts (and a company for about every four)
    hubspot_leads_v1: int = 0  # legacy v1 leads
    hubspot_rate: int | None = 100  # requests per rolling window per token (None: unlimited)
    hubspot_interval_ms: int = 10_000  # that window (HubSpot's is 10 s; tests shorten it)
    hubspot_daily: int | None = None  # requests a day (None: no daily cap)
    hubspot_insert_during_paging: int = 0  # v1 leads arriving one per v1 list request, in all
    hubspot_scopes: tuple[str, ...] = ("crm.objects.contacts.read", "crm.objects.companies.read")
    hubspot_down: bool = False  # every HubSpot request answers 503 (an outage; tests flip it)
    hubspot_search_rate: int | None = 5  # CRM search requests a second per token (HubSpot's)
    hubspot_bulk_edit: int = 0  # contacts stamped with one lastmodifieddate when seeded
    hubspot_search_lag_ms: int = 0  # a change shows in search this much later
    hubspot_search_page_cap: int = 0  # at most this many results a search page (0: the limit)
    hubspot_churn: int = 0  # changes a minute while running (edits, new, archives, merges)
    hubspot_clock_skew_s: float = 0.0  # the portal's clock ahead (+) or behind (-) the machine's
    # The legacy enrichment API's twin (/api/v1/..., its own key), off unless asked for:
    legacy_campaigns: bool = False
    legacy_rate: int | None = 50  # requests a minute per key (None: unlimited)
    legacy_window_s: float = 60.0  # that minute (tests shorten it)
    legacy_allowance: int = 100_000  # records a calendar month
    legacy_enrich_seconds: tuple[float, float] = (5.0, 30.0)  # upload -> finalized
    legacy_webhook_loss: float = 0.0  # chance a webhook delivery is never sent
    legacy_webhook_dupes: float = 0.0  # chance a delivery is sent twice
    legacy_store_lag_s: tuple[float, float] = (0.0, 0.0)  # upload -> shown in its campaign
    legacy_id_gaps: int = 1  # ids ascend by 1..N a record (other tenants' records between)


def parse_quota(text: str) -> int | None:
    """`standard`, `premium`, `unlimited` or a number of requests a minute."""
    text = text.strip().lower()
    if text == "unlimited":
        return None
    if text in TIERS:
        return TIERS[text]
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"quota must be standard, premium, unlimited or a number a minute, not {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError("quota must be at least 1 request a minute")
    return value


def parse_hubspot_rate(text: str, per: str = "10 s") -> int | None:
    """`unlimited` or a number of requests per 10 seconds (per `per`)."""
    if text.strip().lower() == "unlimited":
        return None
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"the HubSpot rate is at least 1 request per {per}")
    return value


def parse_latency(text: str) -> tuple[float, float]:
    """`MIN` or `MIN-MAX` in milliseconds."""
    low, _, high = text.partition("-")
    try:
        lo = float(low)
        hi = float(high) if high else lo
    except ValueError:
        raise argparse.ArgumentTypeError(f"latency must be MS or MIN-MAX in ms, not {text!r}") from None
    if lo < 0 or hi < lo:
        raise argparse.ArgumentTypeError(f"latency range {text!r} is empty or negative")
    return (lo, hi)


def parse_seconds(text: str) -> tuple[float, float]:
    """`S` or `MIN-MAX` in seconds."""
    try:
        return parse_latency(text)  # the same shape, in another unit
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected S or MIN-MAX in seconds (MIN <= MAX), not {text!r}") from None


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability between 0 and 1, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"probability {value} is not between 0 and 1")
    return value


def count(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("expected a number >= 0")
    return value


def add_knob_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every knob flag to `parser` (used by `bulkio sandbox`)."""
    d = SandboxConfig()
    g = parser.add_argument_group("quota and tokens")
    g.add_argument("--quota", type=parse_quota, default=d.quota_per_minute, metavar="TIER|N",
                   help="per-identity quota: standard (100/min), premium (1000/min), unlimited, "
                        "or N requests a minute; sliding 60 s window (default: standard)")
    g.add_argument("--token-ttl", type=float, default=d.token_ttl, metavar="SECONDS",
                   help="access token lifetime (default: 3600)")
    g.add_argument("--no-api-key", dest="api_key", action="store_false",
                   help="the account starts with no API key, as a new account does (make one "
                        "with POST /api/agent-api-keys or `bulkio auth login --create-api-key`)")
    g = parser.add_argument_group("chaos (for tests and rehearsals)")
    g.add_argument("--latency-ms", type=parse_latency, default=d.latency_ms, metavar="MIN[-MAX]",
                   help="added latency per request, uniform in the range (default: 0)")
    g.add_argument("--error-rate", type=probability, default=d.error_rate, metavar="P",
                   help="answer 500/503 before doing the work, with probability P")
    g.add_argument("--lost-response-rate", type=probability, default=d.lost_response_rate,
                   metavar="P", help="do the work, then answer 502/504 or drop the connection")
    g.add_argument("--drop-rate", type=probability, default=d.drop_rate, metavar="P",
                   help="drop the connection before doing the work")
    g.add_argument("--chaos-only", type=lambda t: tuple(r.strip() for r in t.split(",")
                                                        if r.strip()),
                   default=d.chaos_only, metavar="ROUTE,...",
                   help="errors, lost answers and dropped connections hit only these routes: "
                        "'POST /api/leads', or a path for every method (default: every request)")
    g.add_argument("--chaos-seed", type=int, default=None, metavar="N",
                   help="the chaos dice's starting number: the same number, the same faults "
                        "(repeatable rehearsals)")
    g = parser.add_argument_group("API quirks")
    g.add_argument("--batch-persist", type=probability, default=d.batch_persist, metavar="P",
                   help="fraction of batch-POSTed leads really stored (default: 0, the bug)")
    g.add_argument("--batch-drop-mode", choices=("random", "all"), default=d.batch_drop_mode,
                   help="random: each batch-POSTed lead is stored with probability P, so a batch "
                        "stores a random subset; all: a batch is stored whole with probability "
                        "P, or none of it (default: random)")
    g.add_argument("--batch-persist-delay-ms", type=parse_latency,
                   default=d.batch_persist_delay_ms, metavar="MIN[-MAX]",
                   help="a stored batch appears (in listings, by id) only this long after its "
                        "201, uniform in the range: late persistence (default: 0)")
    g.add_argument("--listing-lag-ms", type=parse_latency, default=d.listing_lag_ms,
                   metavar="MIN[-MAX]",
                   help="every created lead (single or batch POST) appears in listings only this "
                        "long after its 201, uniform in the range: listings that lag behind "
                        "writes (default: 0)")
    g.add_argument("--single-persist", type=probability, default=d.single_persist, metavar="P",
                   help="fraction of single-POSTed leads really stored (default: 1, as in "
                        "production); lower it to rehearse bulkio's verification")
    g.add_argument("--batch-delete-drop", type=probability, default=d.batch_delete_drop,
                   metavar="P", help="fraction of batch-DELETE ids silently not deleted (default: 0)")
    g.add_argument("--purge-limit", type=count, default=d.purge_limit, metavar="N",
                   help="purge=true times out (504) above N leads (default: 1000)")
    g.add_argument("--envelope", choices=("flat", "wrapped"), default=d.envelope,
                   help="bulk list answer shape (default: flat)")
    g.add_argument("--page-repeat", type=probability, default=d.page_repeat, metavar="P",
                   help="chance that a bulk list page after the first starts with the last record "
                        "of the page before (a server repeating records; default: 0)")
    g.add_argument("--cursor-name", choices=("nextToken", "lastKey"), default=d.cursor_name,
                   help="cursor key of the JWT lead list (default: nextToken)")
    g = parser.add_argument_group("processing runs")
    g.add_argument("--run-seconds", type=parse_seconds, default=d.run_seconds, metavar="MIN[-MAX]",
                   help="how long a processing run takes, uniform in the range (default: 5-30)")
    g.add_argument("--task-names", choices=("kind", "opaque"), default=d.task_names,
                   help="how runs' taskIdentifier reads: kind (enrich:companyUrl) or opaque "
                        "(a name a client cannot parse; the API documents no format)")
    g.add_argument("--clock-skew", type=float, default=d.clock_skew_s, metavar="SECONDS",
                   help="the sandbox's clock runs this far ahead of the real one (negative: "
                        "behind), in runs' times and batch tags (default: 0)")
    g.add_argument("--run-failure-rate", type=probability, default=d.run_failure_rate,
                   metavar="P", help="chance that a processing run ends FAILED (default: 0)")
    g.add_argument("--processing-settings", action="store_true",
                   help="configure processing: URLs for companyUrl, emailFinder and "
                        "enrichment1-3, copyright agents for processes 1-3, SDR agents for "
                        "aiLeadScore, aiQualification and message1")
    g = parser.add_argument_group("data")
    g.add_argument("--clients", type=count, default=d.clients, metavar="N",
                   help="start with N clients holding realistic fake data")
    g.add_argument("--leads", type=count, default=d.leads, metavar="M",
                   help="start with M enrich leads in all, spread evenly over those clients")
    g.add_argument("--source-leads", type=count, default=d.source_leads, metavar="M",
                   help="start with M source leads in all (served by /api/source-leads/list)")
    # The 0.1 spellings, for one release (not in --help).
    for old, new in (("--seed-settings", "processing_settings"), ("--seed-clients", "clients"),
                     ("--seed-leads", "leads"), ("--seed-source-leads", "source_leads")):
        if new == "processing_settings":
            g.add_argument(old, dest=new, action="store_true", default=argparse.SUPPRESS,
                           help=argparse.SUPPRESS)
        else:
            g.add_argument(old, dest=new, type=count, default=argparse.SUPPRESS,
                           help=argparse.SUPPRESS)
    g.add_argument("--db", default=None, metavar="FILE",
                   help="keep the data in this SQLite file (default: in memory)")
    g.add_argument("--email", default=d.email, help="the sandbox user's login (default: %(default)s)")
    g = parser.add_argument_group("HubSpot twin (same port: HUBSPOT_BASE_URL is the sandbox's URL)")
    g.add_argument("--hubspot-contacts", type=count, default=d.hubspot_contacts, metavar="N",
                   help="N CRM v3 contacts, with a company for about every four and realistic "
                        "mess (empty company property, missing names, mobilephone only...)")
    g.add_argument("--hubspot-leads-v1", type=count, default=d.hubspot_leads_v1, metavar="N",
                   help="N leads on the legacy /leads/v1/list")
    g.add_argument("--hubspot-rate", type=parse_hubspot_rate, default=d.hubspot_rate,
                   metavar="N|unlimited", help="requests per rolling 10 s (default: 100, the "
                                               "Free/Starter private-app limit)")
    g.add_argument("--hubspot-interval-ms", type=count, default=d.hubspot_interval_ms,
                   metavar="MS", help="the rate window (default: 10000, HubSpot's)")
    g.add_argument("--hubspot-daily", type=count, default=None, metavar="N",
                   help="requests a day, then 429 DAILY (default: no cap)")
    g.add_argument("--hubspot-insert-during-paging", type=count, default=0, metavar="K",
                   help="K new v1 leads arrive while the list is paged, one with each request")
    g.add_argument("--hubspot-scopes", type=lambda t: tuple(s for s in t.split(",") if s),
                   default=d.hubspot_scopes, metavar="A,B",
                   help="the scopes the twin's token has (default: %(default)s)")
    g.add_argument("--hubspot-search-rate", type=lambda t: parse_hubspot_rate(t, "second"),
                   default=d.hubspot_search_rate,
                   metavar="N|unlimited",
                   help="CRM search requests a second per token, then 429 SECONDLY "
                        "(default: 5, HubSpot's)")
    g.add_argument("--hubspot-search-lag-ms", type=count, default=d.hubspot_search_lag_ms,
                   metavar="MS", help="a contact's change shows in search this much later "
                                      "(default: 0)")
    g.add_argument("--hubspot-search-short-pages", type=count, default=0, metavar="N",
                   help="the search answers at most N results a page whatever the limit asked, "
                        "with a next link (pages short of the limit that are not the last; "
                        "default: 0, off)")
    g.add_argument("--hubspot-churn", type=count, default=0, metavar="N",
                   help="N changes a minute while running: edits, new contacts, email "
                        "changes, archives and merges (a team at work in its CRM)")
    g.add_argument("--hubspot-clock-skew", type=float, default=d.hubspot_clock_skew_s,
                   metavar="SECONDS",
                   help="the portal's clock this far ahead (negative: behind) of this machine's: "
                        "its lastmodifieddate stamps and Date headers (default: 0)")
    g.add_argument("--hubspot-bulk-edit", type=count, default=0, metavar="N",
                   help="N contacts share one lastmodifieddate (a bulk edit), set at the start")
    g = parser.add_argument_group("LeadGenius legacy enrichment API twin (same port, /api/v1/; "
                                  "its key is legacy_api_key in the JSON line)")
    g.add_argument("--legacy-campaigns", action="store_true",
                   help="serve the legacy enrichment API: campaigns, exclusions, usage, webhooks")
    g.add_argument("--legacy-rate", type=parse_quota, default=d.legacy_rate, metavar="N|unlimited",
                   help="its requests a minute per key (default: 50, as documented)")
    g.add_argument("--legacy-window", type=float, default=d.legacy_window_s, metavar="SECONDS",
                   help="the window --legacy-rate counts in (default: 60; shorter for tests)")
    g.add_argument("--legacy-allowance", type=count, default=d.legacy_allowance, metavar="N",
                   help="records a calendar month the subscription allows (default: %(default)s)")
    g.add_argument("--legacy-enrich-seconds", type=parse_seconds,
                   default=d.legacy_enrich_seconds, metavar="MIN[-MAX]",
                   help="how long after its upload a record is finalized (default: 5-30)")
    g.add_argument("--legacy-webhook-loss", type=probability, default=0.0, metavar="P",
                   help="chance a webhook delivery is never sent")
    g.add_argument("--legacy-webhook-dupes", type=probability, default=0.0, metavar="P",
                   help="chance a webhook delivery is sent twice")
    g.add_argument("--legacy-store-lag", type=parse_seconds, default=d.legacy_store_lag_s,
                   metavar="MIN[-MAX]",
                   help="seconds before an upload's records show in its campaign's pages (the "
                        "API says within 30; default: at once)")
    g.add_argument("--legacy-id-gaps", type=count, default=d.legacy_id_gaps, metavar="N",
                   help="record ids ascend by 1 to N a record, as ids shared with other "
                        "tenants' records would (default: 1)")


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(
        quota_per_minute=args.quota,
        token_ttl=args.token_ttl,
        api_key=args.api_key,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        lost_response_rate=args.lost_response_rate,
        drop_rate=args.drop_rate,
        chaos_only=args.chaos_only,
        batch_persist=args.batch_persist,
        batch_drop_mode=args.batch_drop_mode,
        batch_persist_delay_ms=args.batch_persist_delay_ms,
        listing_lag_ms=args.listing_lag_ms,
        single_persist=args.single_persist,
        batch_delete_drop=args.batch_delete_drop,
        purge_limit=args.purge_limit,
        envelope=args.envelope,
        page_repeat=args.page_repeat,
        cursor_name=args.cursor_name,
        run_seconds=args.run_seconds,
        run_failure_rate=args.run_failure_rate,
        task_names=args.task_names,
        clock_skew_s=args.clock_skew,
        processing_settings=args.processing_settings,
        clients=args.clients,
        leads=args.leads,
        source_leads=args.source_leads,
        db=args.db,
        chaos_seed=args.chaos_seed,
        email=args.email,
        hubspot_contacts=args.hubspot_contacts,
        hubspot_leads_v1=args.hubspot_leads_v1,
        hubspot_rate=args.hubspot_rate,
        hubspot_interval_ms=args.hubspot_interval_ms,
        hubspot_daily=args.hubspot_daily,
        hubspot_insert_during_paging=args.hubspot_insert_during_paging,
        hubspot_scopes=args.hubspot_scopes,
        hubspot_search_rate=args.hubspot_search_rate,
        hubspot_bulk_edit=args.hubspot_bulk_edit,
        hubspot_search_lag_ms=args.hubspot_search_lag_ms,
        hubspot_search_page_cap=args.hubspot_search_short_pages,
        hubspot_churn=args.hubspot_churn, hubspot_clock_skew_s=args.hubspot_clock_skew,
        legacy_campaigns=args.legacy_campaigns,
        legacy_rate=args.legacy_rate, legacy_window_s=args.legacy_window,
        legacy_allowance=args.legacy_allowance,
        legacy_enrich_seconds=args.legacy_enrich_seconds,
        legacy_webhook_loss=args.legacy_webhook_loss,
        legacy_webhook_dupes=args.legacy_webhook_dupes,
        legacy_store_lag_s=args.legacy_store_lag,
        legacy_id_gaps=args.legacy_id_gaps,
    )
