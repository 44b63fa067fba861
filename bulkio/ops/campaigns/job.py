"""A campaign upload job: its options, its report, its job directory, and the source read
once into its journal (so a resume sends exactly the records the job started with)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ...errors import ConfigError
from ...store.campaign_journal import CampaignJournal
from .. import jobs
from ..rules import differences
from .records import RecordMaker
from .sources import RowSource

MAX_BATCH = 200
DEFAULT_SETTLE_S = 30.0  # the API's own: an upload not stored 30 s after it came never is

UPLOAD_REPORT_KEYS = (
    "status", "campaign", "rows_read", "records", "sent", "accepted", "rejected", "failed",
    "held", "recovered", "resent", "contacts", "orgs", "leads", "requests", "upload_requests",
    "read_back_requests", "retries", "rate_limited", "remaining_allowance", "elapsed_s")


@dataclass(frozen=True)
class UploadOptions:
    """Everything `bulkio campaign upload` can be told, besides the source and the key."""

    campaign: str = ""
    type: str = ""
    fields: tuple[str, ...] = ()
    allow_fields: tuple[str, ...] = ()
    mapping: Path | None = None
    webhook_url: str | None = None  # sent with every request; never stored; "auto": serve's
    into_client: str | None = None  # with "auto": the service brings records back into it
    settle: float = DEFAULT_SETTLE_S
    batch_size: int = MAX_BATCH
    up_to_remaining: bool = False
    resume: bool = False
    job_dir: Path | None = None
    report: Path | None = None
    rejects: Path | None = None


@dataclass
class UploadReport:
    status: str = "running"  # finished | interrupted | failed
    campaign: str = ""
    rows_read: int = 0
    records: int = 0  # rows made records (the rest: rejected)
    sent: int = 0  # records in upload requests, every one (re-sends counted)
    accepted: int = 0  # this job's records in the campaign
    rejected: int = 0
    failed: int = 0
    held: int = 0
    recovered: int = 0  # records whose answer was lost, found in the campaign
    resent: int = 0  # records sent again, proved not stored
    contacts: int = 0
    orgs: int = 0
    leads: int = 0
    requests: int = 0
    upload_requests: int = 0
    read_back_requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    remaining_allowance: int | None = None
    elapsed_s: float = 0.0
    job_dir: str = ""
    rejects_path: str | None = None
    report_path: str | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "finished" and not (self.rejected or self.failed or self.held)

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in UPLOAD_REPORT_KEYS}


#: How the user writes each of the job's rules.
FLAGS = {"source": "SOURCE", "campaign": "--campaign", "type": "--type", "fields": "--fields",
         "allow_fields": "--allow-field", "mapping": "--mapping (the file's contents)"}


def rules_of(source: RowSource, options: UploadOptions) -> dict[str, Any]:
    mapping = options.mapping.read_bytes() if options.mapping else b""
    return {"source": source.identity(), "campaign": options.campaign, "type": options.type,
            "fields": list(options.fields), "allow_fields": sorted(options.allow_fields),
            "mapping": hashlib.sha256(mapping).hexdigest() if mapping else None}


def _shown(key: str, value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value)) or "(none)"
    if isinstance(value, dict):
        return str(value.get("file") or value.get("client") or value)
    return "(none)" if value is None else str(value)


def job_dir_of(source: RowSource, options: UploadOptions) -> Path:
    identity = orjson.dumps([source.identity(), options.campaign],
                            option=orjson.OPT_SORT_KEYS).decode()
    return options.job_dir or jobs.default_job_dir("campaign", options.campaign, identity)


def open_upload_job(source: RowSource, options: UploadOptions
                    ) -> tuple[Path, CampaignJournal, bool]:
    """The job directory and its journal, and whether this run resumes an earlier one."""
    rules = rules_of(source, options)
    job_dir = job_dir_of(source, options)
    journal, resumed = jobs.open_job(
        job_dir, "journal.db", CampaignJournal, resume=options.resume, fingerprint=rules,
        what=f"upload to campaign {options.campaign}",
        mismatch=lambda recorded: differences(recorded, rules, FLAGS, _shown,
                                              f"upload in {job_dir}"))
    if not resumed:
        journal.set_meta(fingerprint=rules, tag=hashlib.sha1(
            f"{job_dir.resolve()}|{rules}".encode()).hexdigest()[:8])
    return job_dir, journal, resumed


class CampaignLock(jobs.FileLock):
    """One upload at a time into a campaign, on this machine: a lost answer is looked for
    among the campaign's newest records, which another upload would be adding to."""

    def __init__(self, base_url: str, slug: str) -> None:
        key = hashlib.sha1(f"{base_url}|{slug}".encode()).hexdigest()[:16]
        super().__init__(jobs.state_dir() / "campaigns" / f"{key}.lock", "upload",
                         lambda holder: ConfigError(
                             f"{holder} is uploading to the campaign {slug} now: wait for it "
                             "to end"))


async def read_into(journal: CampaignJournal, source: RowSource, maker: RecordMaker) -> None:
    """The source, every row, into the journal: a record to upload, or rejected with its
    reason. Done once per job (a run that stopped while reading starts it again)."""
    tag = str(journal.meta()["tag"])
    async for rows in source.batches():
        entries: list[tuple[int, str | None, str | None, dict[str, Any] | None, object,
                            str | None]] = []
        for rowno, values, raw, error, own_key in rows:
            if values is None:
                entries.append((rowno, None, None, None, raw, error or "unreadable row"))
                continue
            made = maker.make(values, own_key or f"{tag}-{rowno}")
            if isinstance(made, str):
                entries.append((rowno, None, None, None, raw, made))
            else:
                key, kind, record = made
                entries.append((rowno, key, kind, record, raw, None))
        journal.add_rows(entries)
    journal.set_meta(read=True, columns=source.columns, delimiter=source.delimiter,
                     rejects_format=source.rejects_format, label=source.label,
                     not_sent=maker.not_sent, refused_columns=maker.refused,
                     shared=maker.shared())
