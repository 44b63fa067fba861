"""An import job's directory: where its journal lives, and whether a run may start or resume."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson

from ...sources.hubspot.source import HubSpotOptions
from ...store.db import peek_meta
from ...store.files import atomic_write
from ...store.import_journal import ImportJournal
from .. import jobs
from ..rules import given_options, reconcile


@dataclass(frozen=True)
class ImportOptions:
    """Everything `bulkio import` can be told, besides the connection settings."""

    client: str | None = None  # slug (or UUID, translated with a warning)
    create_client: str | None = None  # create a client with this name first
    mapping: str | None = None  # path of a JSON column -> field map
    mapping_data: dict[str, str | None] | None = None  # or the map itself (the page's preview)
    on_duplicate: Literal["skip", "update", "create"] = "skip"
    rejects: Path | None = None
    csv_raw: bool = False  # rejects cells that start like a formula written as they are
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
    given: frozenset[str] | None = None  # the options the user set (the CLI says; see ops.rules)
    client_locked: bool = False  # the caller holds the client's lock (a sync)
    # the caller knows the client (its slug, resolved) and its leads (a sync's state): the
    # client is not resolved or listed first
    client_known: bool = False

    @property
    def target(self) -> str:
        return self.client or f"new:{self.create_client}"


#: What decides what an import sends and how it judges rows (see ops.rules), and its flag.
RULES = {"mapping": "--mapping", "on_duplicate": "--on-duplicate", "unmapped_to_notes": "--unmapped",
         "strategy": "--strategy", "batch_size": "--batch-size",
         "allow_no_email": "--allow-no-email", "check_emails": "--validate-emails",
         "encoding": "--encoding", "format": "--format", "verify": "--no-verify",
         "notes_columns": "the columns kept as notes"}
MAPPING_COPY = "mapping.json"  # the job's own copy of its --mapping


def rules_of(options: ImportOptions) -> dict[str, Any]:
    """The rules' values, the mapping by its contents (a file edited between runs is another
    mapping, under the same name)."""
    values = {name: getattr(options, name) for name in RULES}
    values["mapping"] = _mapping_contents(options.mapping)
    return values


def _mapping_contents(path: str | None) -> Any:
    if path is None:
        return None
    try:
        return orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {"unreadable": path}  # reading the mapping says what is wrong with it


def shown(name: str, value: Any) -> str:
    """A rule's value as the user wrote it."""
    if name == "unmapped_to_notes":
        return {True: "notes", False: "drop", None: "(the source's own)"}[value]
    if name == "verify":
        return "off" if value is False else "on"
    if name == "check_emails":
        return {None: "off", "validate": "on", "deep": "on, with --deep"}.get(value, str(value))
    if name == "mapping":
        return "(none)" if value is None else orjson.dumps(value).decode()
    if value is None:
        return "(not given)"
    return str(value).lower() if isinstance(value, bool) else str(value)


def record_rules(job_dir: Path, options: ImportOptions) -> dict[str, Any]:
    """The rules a new job runs under, for its meta; its mapping copied into the job."""
    rules = rules_of(options)
    if rules["mapping"] is not None:
        atomic_write(job_dir / MAPPING_COPY, orjson.dumps(rules["mapping"]))
    return rules


def resume_rules(source: str, options: ImportOptions, *, where: str | None = None
                 ) -> ImportOptions:
    """With --resume: the options under the job's own rules (see ops.rules). Runs before the
    source is opened: its encoding and format are rules too."""
    if not options.resume:
        return options
    job_dir = options.job_dir or default_job_dir(source, options, where)
    meta = peek_meta(job_dir / "journal.db")
    if not meta or "fingerprint" not in meta:
        return options  # nothing to resume: opening the job says so
    adopt = reconcile(meta.get("rules"), rules_of(options), given_options(options, RULES), RULES,
                      shown, f"import of {source}")
    if "mapping" in adopt:
        adopt["mapping"] = None if adopt["mapping"] is None else str(job_dir / MAPPING_COPY)
    return replace(options, **adopt) if adopt else options


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
