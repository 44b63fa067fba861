"""`bulkio exclusions upload`: a file's contacts and companies onto the legacy API's exclusion
list (records LeadGenius will never enrich), 200 a request at its quota.

Every row is sent or rejected with its reason in the rejects file (the input's own format).
A row's entity is a contact when it has a contact email or LinkedIn URL, else a company when
it has a website or company LinkedIn URL (`--entity` decides for every row instead); what the
exclusion list does not take is left out of the record. Adding an exclusion twice changes
nothing, so a batch whose answer was lost is simply sent again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from ...enrichment.client import EnrichmentClient
from ...enrichment.fields import EXCLUSION_FIELDS, EXCLUSION_KEYS, legacy_field
from ...errors import ApiError, TransientApiError
from ...formats.rejects import write_rejects
from ...sources.files import Source
from ...store.files import check_output_file
from ..runs import write_report

BATCH = 200
READ = 1000

EXCLUSION_REPORT_KEYS = ("rows_read", "sent", "accepted", "rejected", "failed", "contacts",
                         "orgs", "requests", "retries", "rate_limited", "elapsed_s")


@dataclass
class ExclusionReport:
    rows_read: int = 0
    sent: int = 0  # records in requests the API answered
    accepted: int = 0  # what it said it took (`uploaded`)
    rejected: int = 0  # rows bulkio could not make an exclusion of (the rejects file)
    failed: int = 0  # rows the API refused (the rejects file, with its reason)
    contacts: int = 0
    orgs: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    elapsed_s: float = 0.0
    unmapped_columns: list[str] = field(default_factory=list)
    rejects_path: str | None = None
    report_path: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.failed)

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in EXCLUSION_REPORT_KEYS}


def check_files(rejects: Path, report: Path | None) -> None:
    """Refuse outputs that could not be written, before the first request."""
    check_output_file(rejects, "--rejects")
    check_output_file(report, "--report")


def exclusion_of(values: dict[str, Any], entity: str) -> tuple[str, dict[str, str]] | str:
    """(entity, the exclusion record) of a row's values, or why there is none."""
    mapped: dict[str, str] = {}
    for column, value in values.items():
        name = legacy_field(column)
        text = str(value).strip() if value is not None else ""
        if name is not None and text and name not in mapped:
            mapped[name] = text
    if entity == "auto":
        entity = next((e for e in ("contact", "org")
                       if any(mapped.get(k) for k in EXCLUSION_KEYS[e])), "")
        if not entity:
            return ("no contact email or LinkedIn URL, and no company website or LinkedIn "
                    "URL: nothing to exclude it by")
    elif not any(mapped.get(k) for k in EXCLUSION_KEYS[entity]):
        a, b = EXCLUSION_KEYS[entity]
        return f"an excluded {'contact' if entity == 'contact' else 'company'} needs {a} or {b}"
    record = {"entity": entity, **{k: v for k, v in mapped.items()
                                   if k in EXCLUSION_FIELDS[entity]}}
    return entity, record


async def upload_exclusions(api: EnrichmentClient, source: Source, *, entity: str,
                            rejects_path: Path, report_path: Path | None) -> ExclusionReport:
    report = ExclusionReport()
    started = time.monotonic()
    reader = source.reader
    bad: list[tuple[int, str, object]] = []
    batch: list[tuple[int, object, dict[str, str]]] = []

    async def send() -> None:
        records = [r for _, _, r in batch]
        try:
            answer = await api.exclude(records)
        except TransientApiError:
            raise  # past the retries: the API is down; the run stops
        except ApiError as refused:  # the whole request refused: its rows, with the reason
            bad.extend((rowno, f"refused by the API: {refused.message}", raw)
                       for rowno, raw, _ in batch)
            report.failed += len(batch)
        else:
            report.sent += len(batch)
            report.accepted += answer
        batch.clear()

    mapped = False
    while records := await anyio.to_thread.run_sync(reader.read_batch, READ):
        if not mapped:
            report.unmapped_columns = [c for c in reader.columns if legacy_field(c) is None]
            mapped = True
        for record in records:
            report.rows_read += 1
            if record.values is None:
                bad.append((record.rowno, record.error or "unreadable row", record.raw))
                report.rejected += 1
                continue
            made = exclusion_of(record.values, entity)
            if isinstance(made, str):
                bad.append((record.rowno, made, record.raw))
                report.rejected += 1
                continue
            kind, exclusion = made
            report.contacts += kind == "contact"
            report.orgs += kind == "org"
            batch.append((record.rowno, record.raw, exclusion))
            if len(batch) == BATCH:
                await send()
    if batch:
        await send()
    report.requests, report.retries = api.stats.requests, api.stats.retries
    report.rate_limited = api.stats.rate_limited
    report.elapsed_s = round(time.monotonic() - started, 3)
    if bad:
        bad.sort()
        write_rejects(rejects_path, source.format, list(reader.columns),
                      getattr(reader, "delimiter", ","), bad)
        report.rejects_path = str(rejects_path)
    if report_path is not None:
        report.report_path = write_report(report_path, report)
    return report
