"""The round trip's two halves together: a campaign's finalized records applied to a Pro
client's leads (ops.campaigns.round_trip), then those that matched no lead imported through
the import engine, exactly once. Used by `campaign download --into-client` and by the
service's webhooks."""

from __future__ import annotations

from pathlib import Path

import orjson

from ..leadgenius.client import open_client
from ..leadgenius.settings import Settings
from ..models import ImportReport
from ..ops.campaigns.round_trip import RoundTrip, bring_back
from ..ops.jobs import JobLock, state_dir
from ..store.campaign_registry import open_registry
from ..store.db import FINISHED, JobDatabase, peek_meta
from ..store.files import atomic_write
from .imports import import_leads


async def into_client(settings: Settings, records: Path, folder: Path, *, client: str,
                      campaign: tuple[str, str], on_duplicate: str
                      ) -> tuple[RoundTrip, ImportReport | None]:
    """Apply `records` (a download's NDJSON of the campaign: the legacy API's address and
    the slug) to the client, under FOLDER's lock; FOLDER keeps the round trip's counts
    (round-trip.json) and the import's job (resumed when a run left it unfinished)."""
    lock = JobLock(folder, f"round trip of campaign {campaign[1]} into {client}")
    try:
        trip, report = await _into_client(settings, records, folder, client=client,
                                          campaign=campaign, on_duplicate=on_duplicate)
    finally:
        lock.release()
    atomic_write(folder / "round-trip.json", orjson.dumps(trip.as_dict(),
                                                          option=orjson.OPT_INDENT_2))
    return trip, report


async def _into_client(settings: Settings, records: Path, folder: Path, *, client: str,
                       campaign: tuple[str, str], on_duplicate: str
                       ) -> tuple[RoundTrip, ImportReport | None]:
    with open_registry(state_dir()) as registry:
        lead_ids = registry.lead_ids(*campaign)
    async with open_client(settings) as pro:
        client = (await pro.resolve_client(client)).slug
        with JobDatabase(folder / "round-trip.db") as job:
            trip = await bring_back(pro, records, job, folder, client=client,
                                    lead_ids=lead_ids, on_duplicate=on_duplicate)
    if trip.new_leads is None:
        return trip, None
    imported = folder / "import"
    meta = peek_meta(imported / "journal.db") or {}
    report = await import_leads(trip.new_leads, client=client, settings=settings,
                                on_duplicate=on_duplicate, allow_no_email=True,
                                job_dir=imported,
                                resume=bool(meta.get("fingerprint"))
                                and meta.get("status") != FINISHED)
    return trip, report
