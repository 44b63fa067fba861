"""A purge job: its options and its job directory."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ...store.purge_spool import PurgeSpool
from .. import jobs
from ..rules import given_options, reconcile


@dataclass(frozen=True)
class PurgeOptions:
    """Everything `bulkio purge` can be told, besides the connection settings."""

    delete_client: bool = False  # delete the client record once no lead is left
    resume: bool = False
    report: Path | None = None
    job_dir: Path | None = None
    given: frozenset[str] | None = None  # the options the user set (the CLI says; see ops.rules)


RULES = {"delete_client": "--delete-client"}  # see ops.rules


def open_purge_job(slug: str, options: PurgeOptions
                   ) -> tuple[Path, PurgeSpool, bool, PurgeOptions]:
    """The job directory and its spool, whether this run resumes an earlier one, and the
    options it runs under (a resumed job's own rules)."""
    job_dir = options.job_dir or jobs.default_job_dir("purge", slug, slug)
    spool, resumed = jobs.open_job(
        job_dir, "spool.db", PurgeSpool, resume=options.resume, fingerprint={"client": slug},
        what=f"purge of {slug}",
        mismatch=f"the job in {job_dir} purges another client; give its own --job-dir")
    rules = {"delete_client": options.delete_client}
    if not resumed:
        spool.set_meta(fingerprint={"client": slug}, rules=rules)
        return job_dir, spool, resumed, options
    try:
        adopt = reconcile(spool.meta().get("rules"), rules, given_options(options, RULES), RULES,
                          lambda _, value: "on" if value else "off", f"purge of {slug}")
    except BaseException:
        spool.close()
        raise
    return job_dir, spool, resumed, replace(options, **adopt) if adopt else options
