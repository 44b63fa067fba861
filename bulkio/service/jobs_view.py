"""Jobs as the LeadVibe import API shows them: its field names, ISO times, counts, and the row errors read
from the job's rejects file (`row`, `error`, `value`: the identifier's value), a page at a
time."""

from __future__ import annotations

import codecs
import csv
import io
import sqlite3
import time
from pathlib import Path
from typing import Any

from ..formats.formulas import unguarded
from ..formats.rejects import rejects_delimiter
from ..ops.exports.job import KINDS
from .store import OPEN, RESUMABLE, JobStatus
from .words import plain


def iso(moment: float | None) -> str | None:
    return None if moment is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def job_view(job: dict[str, Any], live: dict[str, Any] | None,
             undo: dict[str, Any] | None = None) -> dict[str, Any]:
    """Any job (import, export, purge, undo): status, times, counts (live while it runs);
    an import's undo job, when it has one."""
    counts = dict(job["counts"])
    progress: dict[str, Any] = {}
    if live is not None and job["status"] == JobStatus.IN_PROGRESS:
        counts.update(live.get("counts") or {})
        progress = {"phase": live.get("phase"), "rows_per_s": live.get("rows_per_s"),
                    "rate_limited": live.get("rate_limited")}
    if job["kind"] == "import" and "total_rows" in counts:
        # every row of the file counted: those not done yet (never sent, or sent with no
        # answer when the job stopped) are what a resume does
        counts["remaining_count"] = max(0, counts["total_rows"] - counts.get("rows_done", 0))
    view = {"job_id": job["job_id"], "kind": job["kind"], "status": job["status"],
            "ended": job["status"].ended, "can_cancel": job["status"] in OPEN,
            "can_resume": job["status"] in RESUMABLE and not job["files_deleted"],
            "file_name": job["file_name"], "created_at": iso(job["created_at"]),
            "started_at": iso(job["started_at"]), "completed_at": iso(job["completed_at"]),
            **counts, "message": job["message"], "request": _public(job)}
    if progress:
        view["progress"] = progress
    if job["kind"] == "import":
        view["can_undo"] = job["status"].ended and not job["files_deleted"] and (
            undo is None or undo["status"] in RESUMABLE)
        if undo is not None:
            view["undo"] = {"job_id": undo["job_id"], "status": undo["status"]}
    if job["kind"] == "undo":
        view["of"] = job["request"].get("of")
    if job["files_deleted"]:
        view["files_deleted"] = True  # --keep-days: the counts stay, the files went
    elif job["kind"] == "export" and job["status"] == JobStatus.COMPLETED:
        url = f"/exports/{job['job_id']}/download"
        view["downloads"] = [{"kind": kind, "url": f"{url}?part={kind}"}
                             for kind in export_parts(job["request"])]
        view["download"] = url  # the first file
    return view


def export_parts(request: dict[str, Any]) -> list[str]:
    """The kinds of lead an export job writes, a file each: enrich, source, or both."""
    return [kind.value.removesuffix("-leads") for kind in KINDS[request.get("kind") or "enrich"]]


def title_of(job: dict[str, Any]) -> str:
    """A job's name for people: "Import of leads.csv into acme-corp"."""
    client = job["request"].get("client") or "every client"
    if job["kind"] == "import":
        return f"Import of {job['file_name']} into {client}"
    if job["kind"] == "undo":
        return f"Undo of the import of {job['file_name']} into {client}"
    if job["kind"] == "export":
        return f"Export of the leads of {client}"
    return f"Purge of {client}"


def import_view(job: dict[str, Any], live: dict[str, Any] | None, *, brief: bool) -> dict[str, Any]:
    """The LeadVibe API's job shape (GET /leads/import/jobs and /jobs/{id})."""
    full = job_view(job, live)
    view = {k: full.get(k) for k in ("job_id", "status", "file_name", "created_at",
                                     "completed_at")}
    view.update({k: full.get(k, 0) for k in ("total_rows", "created_count", "updated_count",
                                             "failed_count")})
    if brief:
        return view
    request = job["request"]
    view.update({"started_at": full["started_at"], "skipped_count": full.get("skipped_count", 0),
                 "rows_done": full.get("rows_done", 0),
                 "remaining_count": full.get("remaining_count", 0),
                 "can_cancel": full["can_cancel"], "can_resume": full["can_resume"],
                 "primary_identifier": request.get("primary_identifier"),
                 "field_mappings": request.get("field_mappings"),
                 "alias_mappings": request.get("alias_mappings"),
                 "client": request.get("client"), "on_duplicate": request.get("on_duplicate"),
                 "notices": request.get("notices", []), "message": job["message"]})
    if "progress" in full:
        view["progress"] = full["progress"]
    if "files_deleted" in full:
        view["files_deleted"] = True
    return view


def _public(job: dict[str, Any]) -> dict[str, Any]:
    request = job["request"]
    return {k: request.get(k) for k in ("client", "kind", "format", "fields", "on_duplicate",
                                        "via", "primary_identifier", "field_mappings",
                                        "allow_no_email", "separator")
            if request.get(k) is not None}


def errors_page(job_dir: Path, job: dict[str, Any], page: int, limit: int
                ) -> tuple[list[dict[str, Any]], int]:
    """Row errors from the job's rejects file: (this page of them, how many in all)."""
    path = job_dir / "bulkio" / "rejects.csv"
    if not path.exists():
        return [], 0
    column = (job["request"].get("primary_identifier") or {}).get("column")
    out: list[dict[str, Any]] = []
    total = 0
    start = (page - 1) * limit
    with path.open(encoding="utf-8-sig", newline="") as f:
        delimiter = rejects_delimiter(f.readline())  # the upload's own separator
        f.seek(0)
        for record in csv.DictReader(f, delimiter=delimiter):
            if start <= total < start + limit:
                row = record.get("_row")
                out.append({"row": int(row) if row and row.isdigit() else row,
                            "error": plain(record.get("_error")),
                            # as typed: the file's spreadsheet guard is not the value
                            "value": unguarded(record.get(column) or "") if column else ""})
            total += 1
    return out, total


def rejects_as_uploaded(path: Path, codec: str, bom: bool) -> tuple[bytes, str]:
    """The rejects file as the upload was: its encoding (with a byte order mark when it had
    one, so Excel reads it right) and separator, each reason in the page's words. A cell the
    upload's encoding cannot hold (a reason's own characters) makes it UTF-8 with a BOM.
    (the bytes, their charset)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        delimiter = rejects_delimiter(f.readline())
        f.seek(0)
        rows = list(csv.reader(f, delimiter=delimiter))
    for row in rows[1:]:
        if len(row) > 1:
            row[1] = plain(row[1]) or ""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = out.getvalue()
    try:
        body = text.encode(codec)
    except (UnicodeEncodeError, LookupError):
        codec, bom, body = "utf-8", True, text.encode("utf-8")
    if bom:
        body = BOM.get(codecs.lookup(codec).name, b"") + body
    return body, codecs.lookup(codec).name


BOM = {"utf-8": codecs.BOM_UTF8, "utf-16-le": codecs.BOM_UTF16_LE,
       "utf-16-be": codecs.BOM_UTF16_BE}


def repaired_rows(job_dir: Path, most: int = 100) -> list[dict[str, Any]]:
    """Rows read with a stray quote kept as typed (the column it was in), from the import's
    journal, read only: the page shows them with the rows, so they can be checked."""
    path = job_dir / "bulkio" / "journal.db"
    if not path.is_file():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [{"row": row, "column": column} for row, column in db.execute(
            "SELECT rowno, detail FROM notes WHERE kind = 'quotes' ORDER BY rowno LIMIT ?",
            (most,))]
    except sqlite3.OperationalError:  # a journal from before notes were kept
        return []
    finally:
        db.close()
