"""Values that cross module boundaries: frozen, slotted dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Client:
    """A LeadGenius client. `slug` (the API's `client_id`) files leads; `id` is the record's UUID."""

    id: str
    slug: str
    name: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Client:
        return cls(id=str(data.get("id", "")), slug=str(data.get("client_id", "")),
                   name=str(data.get("clientName", "")), raw=data)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a cursor: its records and the cursor of the next page (None at the end)."""

    items: list[dict[str, Any]]
    next_token: str | None


class Ended(StrEnum):
    """How an operation's run ended: its last progress phase, and what its report says."""

    DONE = "done"
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM, cancelled: resumable
    FAILED = "failed"  # the error goes on up


class LeadKind(Enum):
    """The two bulk list endpoints."""

    ENRICH = "enrich-leads"
    SOURCE = "source-leads"


#: The keys of an import report, exactly.
IMPORT_REPORT_KEYS = ("rows_read", "created", "updated", "skipped_duplicate", "rejected", "failed",
                      "requests", "retries", "rate_limited", "elapsed_s", "repaired_rows",
                      "dry_run", "strategy", "batch_requests", "batch_leads_persisted",
                      "resent_single", "duplicates_removed", "foreign_leads", "listed_late_s")


@dataclass
class ImportReport:
    """What happened to every row. Always `rows_read == created + updated + skipped_duplicate
    + rejected + failed` (rows still in flight when a run is interrupted are not yet read)."""

    rows_read: int = 0
    created: int = 0
    updated: int = 0
    skipped_duplicate: int = 0
    rejected: int = 0
    failed: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    elapsed_s: float = 0.0
    repaired_rows: int = 0  # read with a stray quote kept as typed (counted in the states too)
    dry_run: bool = False  # a --dry-run's report: `requests` is what the import would send
    strategy: str = "single"  # --strategy: single, batch or auto
    batch_requests: int = 0  # batch POSTs sent (in `requests` too)
    batch_leads_persisted: int = 0  # created rows whose lead a batch stored (seen listed)
    resent_single: int = 0  # rows sent in a batch, then alone (missing, or skipped by it)
    duplicates_removed: int = 0  # leads this job created twice (stored or listed late), deleted
    foreign_leads: int = 0  # leads with a row's email but other values (someone else's): left
    listed_late_s: float = 0.0  # the longest a lead of the job took to be listed after its
    #                             answer, seen by a lead created twice (an upper bound; 0: none)
    # Context for people, not part of the JSON report:
    sent_alone: int = 0  # created rows sent one a request and never in a batch (auto's
    #                      singles before its verdict or after a fall back; rows without email)
    client: str = ""
    job_dir: str = ""
    rejects_path: str | None = None
    report_path: str | None = None
    interrupted: bool = False
    unmapped_columns: list[str] = field(default_factory=list)
    read_as: str = ""  # "CSV, UTF-8, separated by commas"
    notices: list[str] = field(default_factory=list)  # choices bulkio made, said once

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.failed or self.interrupted)

    def as_dict(self) -> dict[str, int | float | str]:
        return {key: getattr(self, key) for key in IMPORT_REPORT_KEYS}


@dataclass(frozen=True)
class ImportProgress:
    """A snapshot for progress displays."""

    phase: str
    rows_done: int
    fraction_read: float | None  # of the file's bytes, when its size is known
    created: int
    updated: int
    skipped: int
    rejected: int
    failed: int
    in_flight: int  # admitted, outcome not yet known
    requests: int
    retries: int
    rate_limited: int
    elapsed_s: float
    per_minute: float | None  # the quota, for an ETA
    waiting_s: float = 0.0  # requests out with no answer for this long (0: answers flow)
    rows_before: int = 0  # rows done by the job's earlier runs (not this run's work)
    sending: str = ""  # how new rows go out, when batches are in play ("batches of 50")
    leads_per_request: float = 1.0  # for the ETA


@dataclass
class DryRun:
    """What an import would do, found without sending anything."""

    columns: dict[str, str | None]  # column -> field (None: not imported)
    samples: list[dict[str, str]]  # the first payloads
    rows_read: int = 0
    to_create: int = 0
    skipped_duplicate: int = 0
    rejected: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)  # the first few
    per_minute: float | None = None
    read_as: str = ""
    notices: list[str] = field(default_factory=list)
    repaired_rows: int = 0
    whole_source: bool = True  # False: a sample (HubSpot's first records)
    hubspot_requests: int = 0  # what reading the sample cost HubSpot
    hubspot_per_10s: int | None = None  # HubSpot's quota, for its time
    strategy: str = "single"
    batch_size: int = 50
    with_email: int = 0  # of the rows to create: the ones a batch may carry

    @property
    def requests(self) -> int:
        """What the creates cost: one a lead; with batches, if the batch path stores them."""
        if self.strategy == "single":
            return self.to_create
        return -(-self.with_email // self.batch_size) + self.to_create - self.with_email

    @property
    def requests_if_batches_store_nothing(self) -> int:
        """batch: every batch, then every lead alone; auto: one batch, then single leads."""
        if self.strategy == "batch":
            return -(-self.with_email // self.batch_size) + self.to_create
        return self.to_create + (1 if self.strategy == "auto" and self.with_email else 0)

    def report(self) -> ImportReport:
        """As an import's report: what was read, nothing created, the requests it would send."""
        return ImportReport(rows_read=self.rows_read, skipped_duplicate=self.skipped_duplicate,
                            rejected=self.rejected, requests=self.requests,
                            repaired_rows=self.repaired_rows, dry_run=True,
                            strategy=self.strategy)

    @property
    def minutes(self) -> float | None:
        return None if self.per_minute is None else self.requests / self.per_minute


#: The keys of an export report, exactly.
EXPORT_REPORT_KEYS = ("records", "pages", "requests", "retries", "rate_limited", "elapsed_s",
                      "bytes", "duplicates_dropped")


@dataclass
class ExportReport:
    """What an export wrote: `records` is the number of records in the output file(s)."""

    records: int = 0
    pages: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    elapsed_s: float = 0.0
    bytes: int = 0
    duplicates_dropped: int = 0
    # Context for people, not part of the JSON report:
    files: list[str] = field(default_factory=list)
    manifests: list[str] = field(default_factory=list)
    failed_streams: dict[str, str] = field(default_factory=dict)  # stream -> error
    job_dir: str = ""
    report_path: str | None = None
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not (self.failed_streams or self.interrupted)

    def as_dict(self) -> dict[str, int | float]:
        return {key: getattr(self, key) for key in EXPORT_REPORT_KEYS}


@dataclass(frozen=True)
class StreamProgress:
    """One cursor of an export: a kind and a client (or every client)."""

    label: str
    records: int
    pages: int
    done: bool


@dataclass(frozen=True)
class ExportProgress:
    """A snapshot for progress displays."""

    phase: str
    records: int
    pages: int
    bytes: int
    duplicates_dropped: int
    streams: list[StreamProgress]
    requests: int
    retries: int
    rate_limited: int
    elapsed_s: float
    waiting_s: float = 0.0  # requests out with no answer for this long (0: answers flow)



#: The keys of a purge report, exactly.
PURGE_REPORT_KEYS = ("found", "deleted", "remaining", "rounds", "requests", "retries",
                     "rate_limited", "elapsed_s", "client_deleted", "dry_run")


@dataclass
class PurgeReport:
    """What a purge did: `deleted` and `remaining` come from listing the client, not from the
    delete answers (which can count fewer than they delete, or be lost)."""

    found: int = 0
    deleted: int = 0
    remaining: int = 0
    rounds: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    elapsed_s: float = 0.0
    client_deleted: bool = False
    dry_run: bool = False  # a --dry-run's report: `requests` is what the purge would send
    # Context for people, not part of the JSON report:
    sent_alone: int = 0  # created rows sent one a request and never in a batch (auto's
    #                      singles before its verdict or after a fall back; rows without email)
    client: str = ""
    job_dir: str = ""
    report_path: str | None = None
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not (self.remaining or self.interrupted)

    def as_dict(self) -> dict[str, int | float | bool]:
        return {key: getattr(self, key) for key in PURGE_REPORT_KEYS}


@dataclass(frozen=True)
class PurgeProgress:
    """A snapshot for progress displays."""

    phase: str
    round: int
    found: int | None  # leads at the start, once the first listing is complete
    remaining: int | None  # leads at the latest complete listing
    enumerated: int  # ids listed so far in this round
    sent: int  # ids sent for deletion in this run
    requests: int
    retries: int
    rate_limited: int
    elapsed_s: float
    per_minute: float | None  # the quota, for an ETA
    waiting_s: float = 0.0  # requests out with no answer for this long (0: answers flow)



@dataclass(frozen=True)
class PurgePlan:
    """What a purge would cost, found by counting the client's leads."""

    client: Client
    leads: int
    requests: int
    per_minute: float | None

    @property
    def minutes(self) -> float | None:
        return None if self.per_minute is None else self.requests / self.per_minute

    def report(self) -> PurgeReport:
        """As a purge's report: what was found, nothing deleted, the requests it would send."""
        return PurgeReport(found=self.leads, remaining=self.leads, requests=self.requests,
                           client=self.client.slug, dry_run=True)
