"""bulkio emails validate: the email checker's verdict for every row of a file (or lead of a
client), each distinct address asked once, written one line per row.

A file is read as an import reads it (encodings, delimiters, header synonyms, --mapping:
`ops.imports.email_check.file_rows`), so the address checked is the one an import would
send. A value that is not an email address at all is `invalid` (reason `syntax`) without a
request: bulkio's own check, said as such.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ...formats.output import cell
from ...leadgenius.client import LeadGeniusClient
from ...store.email_journal import EmailChecks
from ...store.files import atomic_write
from ...store.serial import Serial
from ..runs import job_totals, write_report
from .check import check_addresses
from .report import EmailReport


@dataclass(frozen=True)
class Row:
    """One input row: where it came from, and its address (None: it has none)."""

    ident: int | str  # the file's row number, or the lead's id
    email: str | None
    not_an_address: bool = False  # bulkio refused it as not an email address
    unreadable: str | None = None  # why the row could not be read at all

    @property
    def key(self) -> str | None:
        return None if self.email is None else self.email.strip().lower()


async def client_rows(api: LeadGeniusClient, slug: str) -> list[Row]:
    rows: list[Row] = []
    async for page in api.lead_pages(slug, fields=["email"]):
        for lead in page.items:
            email = lead.get("email")
            rows.append(Row(str(lead.get("id")), str(email).strip() if email else None))
    return rows


async def validate_rows(api: LeadGeniusClient, rows: list[Row], checks: EmailChecks, *,
                        deep: bool, out: Path, job_dir: Path, report_path: Path | None,
                        stats_before: dict[str, Any], started: float,
                        on_checked: Callable[[int, int], None] | None = None) -> EmailReport:
    """Check the rows' distinct addresses (those not already in `checks`), then write one
    line per row to `out` (NDJSON, or CSV by its name) and the report."""
    serial = Serial()
    addresses = [(r.key, r.email) for r in rows
                 if r.key is not None and r.email is not None and not r.not_an_address]
    distinct = len({k for k, _ in addresses})
    try:
        await check_addresses(
            api, checks, serial, addresses, deep=deep,
            on_checked=None if on_checked is None else lambda n: on_checked(n, distinct))
    finally:
        verdicts = await serial(checks.verdicts)
        report = _write(rows, verdicts, out)
        totals = job_totals(stats_before, api.stats, started)
        await serial(checks.set_meta, stats=totals)
        report.requests, report.retries = totals["requests"], totals["retries"]
        report.rate_limited, report.elapsed_s = totals["rate_limited"], totals["elapsed_s"]
        report.out_path = str(out)
        report.report_path = write_report(report_path or job_dir / "report.json", report)
    return report


def _write(rows: list[Row], verdicts: dict[str, tuple[str, str | None]], out: Path
           ) -> EmailReport:
    report = EmailReport()
    seen: set[str] = set()
    tally: Counter[str] = Counter()
    lines: list[dict[str, Any]] = []
    for row in rows:
        key = row.key
        reason: str | None
        if row.unreadable is not None:
            report.no_email += 1
            verdict, reason = "unreadable", row.unreadable
        elif row.email is None or key is None:
            report.no_email += 1
            verdict, reason = "no_email", None
        elif row.not_an_address:
            verdict, reason = "invalid", "syntax (not an email address: not sent to the checker)"
        else:
            verdict, reason = verdicts.get(key, ("unchecked", "the checker did not answer; "
                                                              "--resume asks again"))
        if key is not None:
            if key in seen:
                report.duplicates += 1
            else:
                seen.add(key)
                tally[verdict] += 1
        name = "row" if isinstance(row.ident, int) else "leadId"
        lines.append({name: row.ident, "email": row.email, "verdict": verdict, "reason": reason})
    report.valid, report.invalid = tally["valid"], tally["invalid"]
    report.risky, report.unknown = tally["risky"], tally["unknown"]
    report.unchecked = tally["unchecked"]
    report.checked = len(seen) - report.unchecked
    if out.suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([*lines[0].keys()] if lines else ["row", "email", "verdict", "reason"])
        writer.writerows([[cell(v) for v in x.values()] for x in lines])  # no formulas
        atomic_write(out, buffer.getvalue().encode("utf-8"))
    else:
        atomic_write(out, b"".join(orjson.dumps(x) + b"\n" for x in lines))
    return report

