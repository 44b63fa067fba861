"""Jobs as the API shows them: any job's view (status, ISO times, counts, live progress,
what can be done with it next), the LeadVibe import API's own shape, and a job's title for
people. The rows of an import that did not go as sent are in `rows`."""

from __future__ import annotations

import time
from typing import Any

from ..ops.exports.job import KINDS
from .store import OPEN, RESUMABLE, JobStatus


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
