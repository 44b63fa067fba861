"""What a campaign upload reads: a CSV or NDJSON file (read as `bulkio import` reads files)
or a LeadGenius Pro client's leads (`client:SLUG`, through the bulk list endpoints)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
import orjson

from ...enrichment.fields import PRO_FIELDS
from ...leadgenius.client import LeadGeniusClient
from ...sources.files import Source

READ = 1000
#: (row number, values or None when unreadable, the row as it was, why unreadable, the
#: source's own id for it: a Pro lead's)
Row = tuple[int, dict[str, Any] | None, object, str | None, str | None]


class RowSource(Protocol):
    @property
    def label(self) -> str: ...  # for people
    @property
    def rejects_format(self) -> str: ...  # "csv" or "ndjson": the input's own
    @property
    def columns(self) -> list[str]: ...  # known once the first rows are read
    @property
    def delimiter(self) -> str: ...
    @property
    def from_client(self) -> bool: ...  # keys are the Pro leads' ids

    def identity(self) -> dict[str, Any]: ...
    def batches(self) -> AsyncIterator[list[Row]]: ...


@dataclass
class FileRows:
    source: Source
    label: str = ""
    columns: list[str] = field(default_factory=list)
    delimiter: str = ","
    from_client: bool = False

    def __post_init__(self) -> None:
        self.label = "stdin" if self.source.is_stdin else self.source.name
        self.rejects_format = self.source.format

    def identity(self) -> dict[str, Any]:
        return {"file": self.label, **self.source.fingerprint()}

    async def batches(self) -> AsyncIterator[list[Row]]:
        reader = self.source.reader
        while records := await anyio.to_thread.run_sync(reader.read_batch, READ):
            self.columns = list(reader.columns)
            self.delimiter = getattr(reader, "delimiter", ",")
            yield [(r.rowno, r.values, r.raw, r.error if r.values is None else None, None)
                   for r in records]


@dataclass
class ClientRows:
    api: LeadGeniusClient
    slug: str
    base_url: str
    columns: list[str] = field(default_factory=lambda: ["id", *PRO_FIELDS])
    delimiter: str = ","
    rejects_format: str = "ndjson"
    from_client: bool = True

    @property
    def label(self) -> str:
        return f"client:{self.slug}"

    def identity(self) -> dict[str, Any]:
        return {"client": self.slug, "base_url": self.base_url}

    async def batches(self) -> AsyncIterator[list[Row]]:
        rowno = 0
        async for page in self.api.lead_pages(self.slug, fields=list(PRO_FIELDS)):
            rows: list[Row] = []
            for lead in page.items:
                rowno += 1
                values = {k: v for k, v in lead.items() if k in PRO_FIELDS}
                raw = orjson.dumps(lead).decode()
                if not lead.get("id"):
                    rows.append((rowno, None, raw, "a lead without an id", None))
                else:
                    rows.append((rowno, values, raw, None, str(lead["id"])))
            yield rows
