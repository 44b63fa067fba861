"""What a reader yields: one input record, with its number, values and original form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Record:
    """One data record. `values` is None when the record could not be read (`error` says why).

    `raw` is the record as it was: the list of CSV cells, or the NDJSON line; rejects files are
    written from it, in the input's own format.
    """

    rowno: int  # 1-based, data records only (the header and blank lines do not count)
    values: dict[str, Any] | None
    raw: list[str] | str
    error: str | None = None


class RecordReader(Protocol):
    format: str  # "csv" or "ndjson"
    columns: list[str]  # known so far (NDJSON: keys seen in the first records)

    def read_batch(self, size: int) -> list[Record]:
        """Up to `size` records; an empty list at the end."""
        ...

    @property
    def offset(self) -> int:
        """Bytes of the source consumed by the records returned so far."""
        ...

    def resume_at(self, offset: int, rowno: int) -> None:
        """Continue after record `rowno`, which ended at byte `offset`."""
        ...

    def close(self) -> None: ...
