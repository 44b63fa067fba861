"""A run's writes to existing leads: the updates, and what --archived says for archived and
merged contacts.

Updates go 50 a batch PUT, as the import's do; a batch that does not account for every lead
goes again one PUT each, and a lead the API no longer knows (deleted in LeadGenius) has its
contact created anew instead. A PUT sets values: sending it again after a lost answer sets
the same values, so the journal's `todo` is enough to make it exactly once in effect. A
deleted lead is deleted again harmlessly (the API counts only those it deleted).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from ...errors import ApiError, AuthError, OutcomeUnknown, Transient, TransportError
from ...leadgenius.client import MAX_BATCH_DELETE, LeadGeniusClient
from ...store.serial import Serial
from ...store.sync_state import Change, SyncState
from .plan import after_update

log = logging.getLogger("bulkio.sync")

UPDATE_BATCH = 50  # the import's own


def failure(error: BaseException) -> str:
    """A request that did not succeed: `failed` (tried again next run) or `rejected`."""
    if isinstance(error, (Transient, OutcomeUnknown)):
        return "failed"
    return "rejected"


class Writer:
    def __init__(self, api: LeadGeniusClient, state: SyncState, serial: Serial) -> None:
        self.api = api
        self.state = state
        self.serial = serial

    async def each_batch(self, action: str, size: int,
                         work: Callable[[list[Change]], Awaitable[None]]) -> None:
        """`work` on the journal's changes of `action` still to do, `size` a batch, several
        batches at once (as many as the client's connections: the quota paces them)."""
        slots = anyio.Semaphore(max(1, self.api.settings.effective_concurrency))

        async def one(changes: list[Change]) -> None:
            try:
                await work(changes)
            finally:
                slots.release()

        async with anyio.create_task_group() as tg:
            after = 0
            while batch := await self.serial(self.state.todo, action, size, after):
                after = batch[-1][0]
                await slots.acquire()
                tg.start_soon(one, [c for _, c in batch])

    async def updates(self) -> None:
        await self.each_batch("update", UPDATE_BATCH, self._update_batch)

    async def _update_batch(self, changes: list[Change]) -> None:
        known = await self.serial(self.state.known, [c.hubspot_id for c in changes])
        items = [{"id": known[c.hubspot_id].lead_id, **(c.fields or {})} for c in changes]
        try:
            updated = await self.api.update_leads(items)
        except AuthError:
            raise
        except (ApiError, TransportError, OutcomeUnknown) as error:
            if failure(error) == "failed":
                await self._settle(changes, "failed", str(error))
                return
            updated = -1  # refused as a whole: one PUT each says which
        if updated == len(items):
            await self._updated(changes, known)
            return
        for change in changes:
            await self._update_one(change, known)

    async def _update_one(self, change: Change, known: dict[str, Any]) -> None:
        pair = known[change.hubspot_id]
        try:
            await self.api.update_lead(pair.lead_id, change.fields or {})
        except AuthError:
            raise
        except (ApiError, TransportError, OutcomeUnknown) as error:
            if isinstance(error, ApiError) and error.status == 404:
                log.info("contact %s: its lead %s was deleted in LeadGenius; made again, as "
                         "the contact changed", change.hubspot_id, pair.lead_id)
                await self.serial(self.state.remember,
                                  [(change.hubspot_id, pair.lead_id, pair.sent, "gone")])
                await self.serial(self.state.redo_as, [change.hubspot_id], "create")
                return
            await self._settle([change], failure(error), f"update refused: {error}")
            return
        await self._updated([change], known)

    async def _updated(self, changes: list[Change], known: dict[str, Any]) -> None:
        await self.serial(self.state.remember, [
            (c.hubspot_id, known[c.hubspot_id].lead_id,
             after_update(known[c.hubspot_id].sent, c.fields or {}), known[c.hubspot_id].state)
            for c in changes])
        await self._settle(changes, "done", None)

    async def _settle(self, changes: list[Change], status: str, reason: str | None) -> None:
        await self.serial(self.state.settle, [(c.hubspot_id, status, reason) for c in changes])

    # -- archived and merged -----------------------------------------------------------------

    async def archived(self, mode: str) -> None:
        async def handle(changes: list[Change]) -> None:
            await self._archive_batch(mode, changes)

        await self.each_batch("archive", MAX_BATCH_DELETE if mode == "delete" else UPDATE_BATCH,
                              handle)

    async def _archive_batch(self, mode: str, changes: list[Change]) -> None:
        known = await self.serial(self.state.known, [c.hubspot_id for c in changes])
        try:
            if mode == "delete":
                await self.api.delete_leads([str(known[c.hubspot_id].lead_id) for c in changes])
            elif mode == "note":
                await self.api.update_leads([
                    {"id": known[c.hubspot_id].lead_id,
                     "notes": noted(known[c.hubspot_id].sent.get("notes", ""), note_of(c))}
                    for c in changes])
        except AuthError:
            raise
        except (ApiError, TransportError, OutcomeUnknown) as error:
            await self._settle(changes, failure(error), f"{mode} refused: {error}")
            return
        rows = []
        for c in changes:
            pair = known[c.hubspot_id]
            sent = pair.sent if mode != "note" else {
                **pair.sent, "notes": noted(pair.sent.get("notes", ""), note_of(c))}
            state = "deleted" if mode == "delete" else c.kind
            rows.append((c.hubspot_id, None if mode == "delete" else pair.lead_id, sent, state))
        await self.serial(self.state.remember, rows)
        await self._settle(changes, "done", None)


def note_of(change: Change) -> str:
    if change.kind == "merged":
        return f"Merged in HubSpot into contact {change.survivor}"
    return f"Archived in HubSpot (contact {change.hubspot_id})"


def noted(notes: str, line: str) -> str:
    """The notes with `line` added once (a run resumed after the PUT adds nothing)."""
    lines = notes.split("\n") if notes else []
    return notes if line in lines else "\n".join([*lines, line])
