"""`bulkio import --validate-emails [--deep]`: before any create is sent, every distinct
address of the file is checked (email-validate, or email-verify with --deep), kept in
JOB/emails.db; a row whose address the checker calls invalid (undeliverable) is then
rejected with the checker's reason. Risky and unknown addresses are imported (and counted).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import anyio

from ...errors import ConfigError, Interrupted
from ...leadgenius.client import LeadGeniusClient
from ...sources.files import open_source
from ...sources.records import RecordReader
from ...store.email_journal import EmailChecks
from ...store.serial import Serial
from ..emails.check import check_addresses
from ..emails.validate import Row
from .input import ImportInput
from .job import ImportOptions

READ_BATCH = 1000


def check_usable(source: str, options: ImportOptions) -> None:
    """--validate-emails reads the file twice: a file, then (not stdin, not HubSpot)."""
    if options.check_emails and (source == "-" or source.startswith("hubspot:")):
        raise ConfigError("--validate-emails needs a file (it reads the addresses first, then "
                          "imports): save the input to a file, or check it with "
                          "`bulkio emails validate` first")


async def refused_addresses(api: LeadGeniusClient, source: str, options: ImportOptions,
                            job_dir: Path, on_checked: Callable[[int, int], None]
                            ) -> tuple[dict[str, str], str]:
    """(lower-cased address -> the checker's reason, for those it refuses; a notice)."""
    deep = options.check_emails == "deep"
    src = open_source(source, fmt=options.format, encoding=options.encoding)
    try:
        rows = await anyio.to_thread.run_sync(file_rows, src.reader, options.mapping)
    finally:
        src.close()
    addresses = {r.key: r.email for r in rows
                 if r.key is not None and r.email is not None and not r.not_an_address}
    checks = EmailChecks(job_dir / "emails.db")
    try:
        serial = Serial()
        await check_addresses(api, checks, serial, list(addresses.items()), deep=deep,
                              on_checked=lambda n: on_checked(n, len(addresses)))
        verdicts = await serial(checks.verdicts)
    finally:
        checks.close()
    missing = [k for k in addresses if k not in verdicts]
    if missing:
        raise Interrupted(f"the email checker did not answer for {len(missing)} address(es) "
                          "(nothing was imported yet)", when="")
    tally = Counter(verdict for verdict, _ in verdicts.values())
    word = "undeliverable" if deep else "invalid"
    refused = {k: f"the email checker says {word}: {reason or '?'}"
               for k, (verdict, reason) in verdicts.items() if verdict == "invalid"}
    notice = (f"{'Verified' if deep else 'Validated'} {len(addresses):,} addresses before "
              f"importing: {tally['valid']:,} valid, {tally['invalid']:,} {word} (their rows "
              f"rejected), {tally['risky']:,} risky and {tally['unknown']:,} unknown (imported).")
    return refused, notice


def file_rows(reader: RecordReader, mapping: str | None) -> list[Row]:
    """Every row of a file, with the address an import would send."""
    rows_in = ImportInput(reader, ImportOptions(allow_no_email=True, mapping=mapping))
    rows: list[Row] = []
    while records := reader.read_batch(READ_BATCH):
        for record in records:
            if record.values is None:  # a line that cannot be read as a row: its own reason
                rows.append(Row(record.rowno, None, unreadable=record.error))
                continue
            built = rows_in.builder.build(record.values)
            if built.payload is not None:
                rows.append(Row(record.rowno, built.payload.get("email")))
            else:
                rows.append(Row(record.rowno, built.typed_email,
                                not_an_address=built.typed_email is not None))
    return rows
