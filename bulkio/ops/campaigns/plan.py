"""`bulkio campaign upload --dry-run`: the source read and mapped exactly as the upload would,
into a throwaway journal; what would be sent, rejected and held, the requests and the time.
Nothing is sent (the allowance is read when a key is at hand)."""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ...store.campaign_journal import CampaignJournal
from .job import UploadOptions, read_into
from .records import load_record_maker
from .run import notices_of
from .sources import RowSource

SHOWN_REJECTS = 10


@dataclass
class UploadPlan:
    campaign: str
    rows_read: int
    records: int
    contacts: int
    orgs: int
    leads: int
    rejected: int
    requests: int
    minutes: float | None  # at the legacy quota
    remaining_allowance: int | None
    columns: dict[str, str | None] = field(default_factory=dict)  # column -> field
    first_rejects: list[tuple[int, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


async def plan_upload(source: RowSource, options: UploadOptions, *,
                      rate_per_minute: float | None, remaining: int | None) -> UploadPlan:
    maker = load_record_maker(options.mapping, options.allow_fields)
    with tempfile.TemporaryDirectory(prefix="bulkio-dry-run-") as folder:
        journal = CampaignJournal(Path(folder) / "journal.db")
        try:
            journal.set_meta(tag="dry-run")
            await read_into(journal, source, maker)
            counts, sums = journal.counts(), journal.sums()
            first = [(rowno, reason) for rowno, reason, _ in journal.not_uploaded()]
            notices = notices_of(journal.meta(), None)
        finally:
            journal.close()
    records = counts["pending"]
    requests = math.ceil(records / max(1, min(200, options.batch_size)))
    if remaining is not None and records > remaining:
        notices.append(f"{records:,} records, but this period's allowance has {remaining:,} "
                       "left: the upload would stop before sending (--up-to-remaining sends "
                       f"the first {remaining:,})")
    return UploadPlan(
        campaign=options.campaign, rows_read=sums["rows_read"], records=records,
        contacts=sums["contacts"], orgs=sums["orgs"], leads=sums["leads"],
        rejected=counts["rejected"], requests=requests,
        minutes=requests / rate_per_minute if rate_per_minute else None,
        remaining_allowance=remaining, columns=dict(maker.decided),
        first_rejects=first[:SHOWN_REJECTS], notices=notices)
