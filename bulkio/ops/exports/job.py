"""An export job: its options, the files it writes, and its job directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ...errors import ConfigError
from ...models import LeadKind
from ...store.export_checkpoint import ExportCheckpoint
from ...store.files import check_output_dir
from .. import jobs
from ..rules import differences

FORMATS = ("ndjson", "csv")
KINDS = {"enrich": (LeadKind.ENRICH,), "source": (LeadKind.SOURCE,),
         "all": (LeadKind.ENRICH, LeadKind.SOURCE)}
_SUFFIXES = {".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson", ".csv": "csv"}
ALL_CLIENTS = "ALL"


@dataclass(frozen=True)
class ExportOptions:
    """Everything `bulkio export` can be told, besides the connection settings."""

    out: str | Path = "export.ndjson"  # a str ending in "/" names a directory
    kind: str = "enrich"  # enrich, source or all
    client: str = ALL_CLIENTS  # a slug, a client's UUID, or ALL
    fields: tuple[str, ...] | None = None  # projection (`id` always comes back)
    page_size: int = 5000
    format: str | None = None  # ndjson or csv; from the file name otherwise
    gzip: bool = False  # for a directory --out (a file's name says .gz itself)
    single_cursor: bool = False  # one clientId=ALL cursor instead of one per client
    csv_raw: bool = False  # CSV cells that start like a formula are written as they are
    force: bool = False  # replace an existing output file
    allow_unknown_fields: bool = False  # --fields names no lead is known to carry
    stdout: BinaryIO | None = None  # where `out="-"` writes (the CLI: standard output)
    resume: bool = False
    report: Path | None = None
    job_dir: Path | None = None


@dataclass(frozen=True)
class Target:
    """One output file: the records of one kind of lead."""

    kind: LeadKind
    path: Path
    format: str
    gzip: bool

    @property
    def name(self) -> str:
        return self.kind.value

    @property
    def part(self) -> Path:
        return self.path.with_name(self.path.name + ".part")

    @property
    def manifest(self) -> Path:
        return self.path.with_name(self.path.name + ".manifest.json")

    def describe(self) -> dict[str, Any]:
        return {"kind": self.name, "path": str(self.path), "format": self.format, "gzip": self.gzip}


def _format_of(path: Path, wanted: str | None) -> tuple[str, bool]:
    """(format, gzip) from a file name such as leads.csv.gz, checked against --format."""
    suffixes = [s.lower() for s in path.suffixes]
    gzip = bool(suffixes) and suffixes[-1] == ".gz"
    if gzip:
        suffixes.pop()
    named = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if named and wanted and named != wanted:
        raise ConfigError(f"--format {wanted} does not match the name {path.name}")
    if suffixes and named is None and wanted is None:
        raise ConfigError(f"cannot tell the format of {path.name}: name it .ndjson, .jsonl or "
                          ".csv (optionally .gz), or pass --format")
    return named or wanted or "ndjson", gzip  # a name without a suffix: NDJSON by default


def plan_targets(options: ExportOptions) -> list[Target]:
    """The files to write. A directory (existing, or given with a trailing slash) receives
    `<kind>.<format>`; a file name with --kind all receives the kind before its suffixes."""
    if options.kind not in KINDS:
        raise ConfigError(f"--kind must be one of {', '.join(KINDS)}, not {options.kind!r}")
    if options.format is not None and options.format not in FORMATS:
        raise ConfigError(f"--format must be ndjson or csv, not {options.format!r}")
    kinds = KINDS[options.kind]
    out = Path(options.out)
    if out.is_dir() or str(options.out).endswith(("/", os.sep)):
        fmt = options.format or "ndjson"
        ext = f".{fmt}{'.gz' if options.gzip else ''}"
        return [Target(k, out / f"{k.value}{ext}", fmt, options.gzip) for k in kinds]
    fmt, gzip = _format_of(out, options.format)
    if len(kinds) == 1:
        return [Target(kinds[0], out, fmt, gzip)]
    stem = out.name[:len(out.name) - len("".join(out.suffixes))] or "export"
    return [Target(k, out.with_name(f"{stem}.{k.value}{''.join(out.suffixes)}"), fmt, gzip)
            for k in kinds]


def fingerprint(options: ExportOptions, targets: list[Target]) -> dict[str, Any]:
    """What must not change between a run and its --resume."""
    return {"client": options.client, "fields": list(options.fields or []),
            "page_size": options.page_size, "single_cursor": options.single_cursor,
            "targets": [t.describe() for t in targets],
            **({"csv_raw": True} if options.csv_raw else {})}


#: How the user writes each part of an export's fingerprint.
FLAGS = {"client": "--client", "fields": "--fields", "page_size": "--page-size",
         "single_cursor": "--single-cursor", "targets": "--out/--kind/--format",
         "csv_raw": "--csv-raw"}


def shown(key: str, value: Any) -> str:
    """A part of an export's fingerprint as the user wrote it."""
    if key == "targets":
        return ", ".join(f"{t['path']} ({t['kind']}, {t['format']}"
                         f"{', gzip' if t['gzip'] else ''})" for t in value or [])
    if key == "fields":
        return ",".join(value) or "(all)"
    return "(not given)" if value is None else str(value)


def check_outputs(targets: list[Target], options: ExportOptions) -> None:
    """Refuse to overwrite a file without --force (its own job's resume may), or to start an
    export whose file, report or job directory cannot be written: before the job or any
    request, in one line naming the path."""
    jobs.check_outputs(options.job_dir, report=options.report)
    for target in targets:
        if target.path.exists() and not options.resume and not options.force:
            raise ConfigError(f"{target.path} exists: add --force to replace it, or choose "
                              "another --out")
        # The .part is written, then renamed: the folder must take new files.
        check_output_dir(target.path.parent, "--out")


def open_export_job(options: ExportOptions, targets: list[Target]
                    ) -> tuple[Path, ExportCheckpoint, bool]:
    """The job directory and its checkpoint, and whether this run resumes an earlier one."""
    where = "|".join(str(t.path.resolve()) for t in targets)
    job_dir = options.job_dir or jobs.default_job_dir(
        "export", targets[0].path.stem, f"{where}|{options.client}")
    checkpoint, resumed = jobs.open_job(
        job_dir, "checkpoint.db", ExportCheckpoint, resume=options.resume,
        fingerprint=fingerprint(options, targets), what=f"export to {options.out}",
        mismatch=lambda recorded: differences(recorded, fingerprint(options, targets), FLAGS,
                                              shown, f"export in {job_dir}"))
    return job_dir, checkpoint, resumed
