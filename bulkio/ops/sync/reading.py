"""A run's reading: what changed in the portal since the mark, into the run's journal.

Changed contacts come from the CRM search (sources.hubspot.changes), each with its companies,
as the import reads them; a surviving contact's `hs_merged_object_ids` names the contacts
merged into it. The archived contacts have no date filter: HubSpot lists them whole, every
run (the report says what that cost); those this sync has a lead for are the run's to handle.
Each page is journalled with the reader's position, so an interrupted read goes on where it
stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...sources.hubspot.changes import ChangeReader, moment_ms
from ...sources.hubspot.client import HubSpotClient
from ...sources.hubspot.contacts import record_of
from ...store.serial import Serial
from ...store.sync_state import SyncState

ARCHIVED_PAGE = 100


def merged_ids(contact: dict[str, Any]) -> list[str]:
    """The contacts merged into this one (`hs_merged_object_ids`, `;`-separated), not itself."""
    value = str((contact.get("properties") or {}).get("hs_merged_object_ids") or "")
    own = str(contact.get("id"))
    return [i for i in (x.strip() for x in value.split(";")) if i.isdigit() and i != own]


async def read_changed(reader: ChangeReader, state: SyncState, serial: Serial,
                       columns: Sequence[str], since_ms: int, meta: dict[str, Any]) -> None:
    """Every contact modified at or after `since_ms` (and the contacts merged into them)."""
    after = int(meta.get("read_after", 0))
    newest = meta.get("newest_ms")
    async for page in reader.since(since_ms, after):
        rows: list[tuple[str, str, dict[str, Any] | None, int | None, str | None]] = []
        for contact in page:
            hid = str(contact["id"])
            modified = moment_ms((contact.get("properties") or {}).get("lastmodifieddate"))
            rows.append((hid, "changed", record_of(contact, columns, 0).values, modified, None))
            rows.extend((loser, "merged", None, modified, hid) for loser in merged_ids(contact))
        if reader.newest is not None and (newest is None or reader.newest > newest):
            newest = reader.newest
        after = max(after, *(int(c["id"]) for c in page))
        await serial(state.add_changes, rows, read_after=after, newest_ms=newest)
    await serial(state.set_meta, changed_read=True)


async def read_archived(client: HubSpotClient, state: SyncState, serial: Serial,
                        meta: dict[str, Any]) -> int:
    """The archived contacts this sync holds a lead for (and has not handled yet), into the
    journal; the requests it took."""
    cursor = meta.get("archived_after")
    requests = 0
    while True:
        answer = await client.contacts(after=cursor, properties=["email"], limit=ARCHIVED_PAGE,
                                       archived=True)
        requests += 1
        ids = [str(c["id"]) for c in answer["results"] if str(c.get("id", "")).isdigit()]
        known = await serial(state.known, ids)
        ours = [i for i in ids if i in known and known[i].state == "live"]
        pending = await serial(state.pending_ids, ours)
        rows = [(i, "archived", None, None, None) for i in ours if i not in pending]
        cursor = ((answer.get("paging") or {}).get("next") or {}).get("after")
        await serial(state.add_changes, rows, archived_after=cursor)
        if not cursor:
            break
    await serial(state.set_meta, archived_read=True)
    return requests
