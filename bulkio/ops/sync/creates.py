"""New leads, made by the import engine (exactly once: its journal, its settle and look-up of
lost answers, its rejects), and what the state learns from the import's journal.

A run's creates are read by the importer from the run's own journal (`ChangesToCreate`, a
source like a file, each record keyed by its contact id). The first run is a whole
`import hubspot:contacts`; afterwards `learn_from_import` maps each contact to the lead its
row made (or, with --on-duplicate update, matched by email), with the values sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from ...sources.hubspot.contacts import LABELS
from ...sources.records import Record
from ...store.import_journal import ImportJournal, RowState
from ...store.sync_state import SyncState
from ..imports.input import ImportInput

READ = 200


class ChangesToCreate:
    """The run's `create` changes as records (the reader protocol of sources.records)."""

    format = "ndjson"
    is_async: Literal[True] = True
    unmapped_to_notes = True
    names = None
    repeated_names: list[tuple[str, list[int]]] = []  # noqa: RUF012 - read only
    empty_rows = 0
    labels = LABELS

    def __init__(self, state: SyncState, columns: Sequence[str]) -> None:
        self.state = state
        self.columns = list(columns)
        self._after = 0
        self._rowno = 0

    async def read_batch(self, size: int) -> list[Record]:
        batch = self.state.todo("create", min(size, READ), self._after)
        records = []
        for n, change in batch:
            self._after, self._rowno = n, self._rowno + 1
            values = {c: (change.raw or {}).get(c) for c in self.columns}
            raw = orjson.dumps({"_hubspot_id": change.hubspot_id,
                                **{k: v for k, v in values.items() if v not in (None, "")}})
            records.append(Record(self._rowno, values, raw.decode(), key=change.hubspot_id))
        return records

    def position(self) -> dict[str, Any]:
        return {"after_n": self._after}

    async def resume(self, position: Mapping[str, Any], rowno: int) -> None:
        self._after = int(position.get("after_n", 0))
        self._rowno = rowno

    async def probe(self) -> None:
        return None

    def describe(self) -> str:
        return "the HubSpot contacts new to this sync"

    async def aclose(self) -> None:
        return None


@dataclass
class CreatesSource:
    """What the importer needs of a source, for `ChangesToCreate`."""

    reader: ChangesToCreate
    name: str = "hubspot:contacts (new since the mark)"
    format: str = "ndjson"
    size: None = None

    def fingerprint(self) -> dict[str, Any]:
        return {"sync": "hubspot:contacts", "columns": self.reader.columns}

    def fraction_read(self) -> float | None:
        return None

    def notices(self) -> list[str]:
        return []


def learn_from_import(journal: ImportJournal, rows: ImportInput, state: SyncState, *,
                      in_run: bool) -> dict[str, int]:
    """Each contact's lead (and the values sent to it) from an import's journal, into the
    state; in a run, each create change settled as its row ended (one matched by email to a
    lead already there counted as an update, or unchanged); after the first run's import,
    the contacts it could not write carried into the next run. Counts by row state."""
    counts: dict[str, int] = {}
    remembered: list[tuple[str, str | None, dict[str, str], str]] = []
    settled: list[tuple[str, str, str | None]] = []
    matched: dict[str, list[str]] = {"update": [], "unchanged": []}
    carried: list[tuple[str, dict[str, Any]]] = []
    for key, row_state, lead_id, raw, error in journal.db.execute(
            "SELECT r.key, r.state, coalesce(r.lead_id, e.lead_id), r.raw, r.error "
            "FROM rows r LEFT JOIN emails e ON e.email = r.email AND e.pre = 1 "
            "WHERE r.key IS NOT NULL"):
        counts[row_state] = counts.get(row_state, 0) + 1
        if row_state in (RowState.CREATED, RowState.UPDATED) and lead_id:
            built = rows.rebuild(raw)
            # A matched lead's update left out what bulkio would fill in (notes lines, a name
            # from the email): taken as sent all the same, so that the lead keeps what it had
            # there (someone's own notes) until the contact changes it.
            sent = {k: v for k, v in (built.payload or {}).items() if k != "client_id"}
            remembered.append((key, str(lead_id), sent, "live"))
            settled.append((key, "done", None))
            if row_state == RowState.UPDATED:
                matched["update"].append(key)
        elif row_state == RowState.SKIPPED_DUPLICATE and lead_id:
            remembered.append((key, str(lead_id), {}, "live"))  # matched, nothing sent
            settled.append((key, "done", error))
            matched["unchanged"].append(key)
        elif row_state == RowState.REJECTED or (row_state == RowState.SKIPPED_DUPLICATE):
            remembered.append((key, None, {}, "rejected"))
            settled.append((key, "rejected", error))
        else:  # failed: the next run tries the contact again
            settled.append((key, "failed", error))
            if raw is not None:
                carried.append((key, _values(raw)))
    state.remember(remembered)
    if in_run:
        state.settle(settled)
        for action, keys in matched.items():  # after: cut short between, only a count differs
            state.redo_as(keys, action)
    else:
        state.carry(carried)
    return counts


def _values(raw: str) -> dict[str, Any]:
    """A journalled HubSpot row's record values (as `record_of` made them)."""
    values = orjson.loads(orjson.loads(raw))
    return {k: v for k, v in values.items() if k != "_hubspot_id"}
