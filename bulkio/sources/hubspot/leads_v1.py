"""`hubspot:leads-v1`: the legacy `/leads/v1/list`, oldest first, as records.

Offset paging over a live list skips and repeats leads when leads arrive or go while it is
paged: every offset after the change points one lead off. So the list is paged by time, not
by offset alone: each request starts at the newest `insertedAt` seen (less a millisecond, so
it holds whether HubSpot's startTime includes that instant or not), and the offset only steps
through leads that share one instant. Leads seen again at the boundary are repeats, dropped
by their guid (the journal knows every guid of the job). When a page comes back short and
brings nothing newer, one more request from the newest time (a sweep) finds what arrived
meanwhile; the list ends when a sweep brings nothing new.

`--since`/`--until` bound the times (`startTime`/`stopTime`, pivot `insertedAt`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, Literal

import orjson

from ..records import Record
from .client import HubSpotClient

MAX = 100
FIELDS = ("firstName", "lastName", "email", "company", "jobTitle", "phone", "website", "city",
          "country")
LABELS = {"city": "City", "country": "Country"}


class V1LeadRecords:
    format = "ndjson"  # the rejects file: one JSON object a lead
    is_async: Literal[True] = True
    unmapped_to_notes = True  # city and country go to notes as "City: ..." lines
    names = None
    repeated_names: list[tuple[str, list[int]]] = []  # noqa: RUF012 - read only
    empty_rows = 0
    labels = LABELS

    def __init__(self, client: HubSpotClient, *, since_ms: int | None = None,
                 until_ms: int | None = None) -> None:
        self.client = client
        self.columns = list(FIELDS)
        self.until_ms = until_ms
        self._buffer: deque[Record] = deque()
        self._at: tuple[int | None, int] = (since_ms, 0)  # (startTime, offset) of this page
        self._next: tuple[int | None, int] = (since_ms, 0)
        self._newest = -1  # the newest insertedAt seen
        self._done = False
        self._rowno = 0

    async def read_batch(self, size: int) -> list[Record]:
        """Up to `size` records of the page in hand: a page goes on to be sent as soon as it
        is here (and a failure to fetch the next one never holds records already read)."""
        while not self._buffer and not self._done:
            await self._next_page()
        return [self._buffer.popleft() for _ in range(min(size, len(self._buffer)))]

    def position(self) -> dict[str, Any]:
        start, offset = self._at if self._buffer else self._next
        return {"v1_start": start, "v1_offset": offset, "v1_newest": self._newest,
                "done": not self._buffer and self._done}

    async def resume(self, position: Mapping[str, Any], rowno: int) -> None:
        start = position.get("v1_start")
        self._next = (None if start is None else int(start), int(position.get("v1_offset", 0)))
        self._newest = int(position.get("v1_newest", -1))
        self._done = bool(position.get("done"))
        self._rowno = rowno

    async def probe(self) -> None:
        """One lead read: the token works (AuthError in one line otherwise)."""
        await self.client.v1_leads(offset=0, max_=1)

    def describe(self) -> str:
        return "HubSpot legacy leads (v1 list, by insertedAt, oldest first)"

    async def aclose(self) -> None:
        return None

    async def _next_page(self) -> None:
        self._at = start, offset = self._next
        leads = await self.client.v1_leads(offset=offset, max_=MAX, start_ms=start,
                                           stop_ms=self.until_ms)
        page_newest = max((_time(lead) for lead in leads), default=-1)
        grew = page_newest > self._newest
        self._newest = max(self._newest, page_newest)
        if len(leads) < MAX and not grew:
            self._done = True  # a short page that brings nothing newer: the end (or a sweep's)
        elif self._newest - 1 > (start if start is not None else -1):
            self._next = (self._newest - 1, 0)
        else:  # a full page within one instant: step through it by offset
            self._next = (start, offset + len(leads))
        for lead in leads:
            guid = str(lead.get("guid") or lead.get("id") or "")
            if not guid:
                continue
            self._rowno += 1
            values = {name: lead.get(name) for name in FIELDS}
            raw = orjson.dumps({"_hubspot_id": guid, **{k: v for k, v in values.items() if v}})
            self._buffer.append(Record(self._rowno, values, raw.decode(), key=guid))


def _time(lead: dict[str, Any]) -> int:
    value = lead.get("insertedAt")
    return int(value) if isinstance(value, (int, float)) else -1
