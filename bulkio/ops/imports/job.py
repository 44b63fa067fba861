"""An import job's directory: where its journal lives, and whether a run may start or resume."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from ...sources.hubspot.source import HubSpotOptions
from ...store.import_journal import ImportJournal
from .. import jobs


@dataclass(frozen=True)
class ImportOptions:
    """Everything `bulkio import` can be told, besides the connection settings."""

    client: str | None = None  # slug (or UUID, translated with a warning)
    create_client: str | None = None  # create a client with this name first
    mapping: str | None = None  # path of a JSON column -> field map
    on_duplicate: Literal["skip", "update", "create"] = "skip"
    rejects: Path | None = None
    report: Path | None = None
    job_dir: Path | None = None
    resume: bool = False
    verify: bool = True
    allow_no_email: bool = False
    unmapped_to_notes: bool | None = None  # None: as the source has it (files drop, HubSpot keeps)
    format: str | None = None  # csv or ndjson; from the name otherwise
    encoding: str | None = None  # csv: detected otherwise
    settle_s: float = 30.0  # wait this long after a lost answer before looking the row up
    strategy: Literal["single", "batch", "auto"] = "single"  # see ops.imports.batch
    batch_size: int = 50
    check_emails: Literal["validate", "deep"] | None = None  # --validate-emails [--deep]
    # unmapped columns kept as notes lines under this label (the service's alias mappings)
    notes_columns: dict[str, str] = field(default_factory=dict)
    stdin: BinaryIO | None = None
    hubspot: HubSpotOptions = field(default_factory=HubSpotOptions)  # for hubspot:<kind>

    @property
    def target(self) -> str:
        return self.client or f"new:{self.create_client}"


def default_job_dir(source: str, options: ImportOptions, where: str | None = None) -> Path:
    """One job per (source, client): the same command finds the same job again. `where`
    says which source (a file's absolute path; for HubSpot, the portal's URL too)."""
    where = where or (source if source == "-" else str(Path(source).resolve()))
    return jobs.default_job_dir("import", options.target, f"{where}|{options.target}")


def open_job(source: str, options: ImportOptions, fingerprint: dict[str, Any], *,
             where: str | None = None) -> tuple[Path, ImportJournal, bool]:
    """The job directory and its journal, and whether this run resumes an earlier one."""
    job_dir = options.job_dir or default_job_dir(source, options, where)
    journal, resumed = jobs.open_job(
        job_dir, "journal.db", ImportJournal, resume=options.resume,
        fingerprint=fingerprint, what=f"import of {source} into {options.target}",
        mismatch=f"{source} is not the source the job in {job_dir} started with (another "
                 "file, or other options); resume with the same one, or start a new job with "
                 "--job-dir")
    return job_dir, journal, resumed
