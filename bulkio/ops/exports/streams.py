"""The cursors an export runs, and paging one of them: shared by the export to files, the
export to standard output and `iter_leads`.

A stream is one kind of lead for one client (by slug, or by UUID for misfiled leads), or for
every client at once; its pages come from the bulk list (API key) or the JWT lead list.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import anyio

from ...errors import ApiError, ConfigError
from ...leadgenius.client import MAX_LEAD_PAGE, LeadGeniusClient
from ...models import LeadKind, Page
from ...store.export_checkpoint import Stream
from .job import ALL_CLIENTS, ExportOptions

log = logging.getLogger("bulkio.export")
T = TypeVar("T")

CURSOR_RESTARTS = 3  # an expired cursor is paged again from the start at most this often
MAX_CURSORS = 16  # default cap on concurrent cursors: each may hold one encoded page


async def plan_streams(api: LeadGeniusClient, options: ExportOptions,
                       kinds: list[LeadKind]) -> list[Stream]:
    """The cursors an export runs: per kind, one per client (by slug, and by UUID to catch
    leads misfiled under it), or one for every client with --single-cursor."""
    if not api.auth.has_api_key:
        if LeadKind.SOURCE in kinds:
            raise ConfigError("source leads are listed only by the bulk endpoint, which needs "
                              "an API key: set LEADGENIUS_API_KEY and LEADGENIUS_USER_ID")
        log.warning("no API key: exporting through the JWT lead list (1,000 full records a "
                    "page), which is slower; set LEADGENIUS_API_KEY and LEADGENIUS_USER_ID for "
                    "the bulk endpoint (5,000 a page, with field projection)")
    if options.client.upper() == ALL_CLIENTS:
        if options.single_cursor and api.auth.has_api_key:
            return [Stream(f"{k.value}|*", k.value, k.value, None, ALL_CLIENTS) for k in kinds]
        clients = await api.list_clients()
    else:
        clients = [await api.resolve_client(options.client)]
    by_slug = [Stream(f"{k.value}|{c.slug}", k.value, k.value, c.slug, c.slug)
               for k in kinds for c in clients]
    # Misfiled leads are rare: one request each, started once every client's cursor has been.
    by_uuid = [Stream(f"{k.value}|{c.id}", k.value, k.value, c.id, c.slug)
               for k in kinds for c in clients if c.id and c.id != c.slug]
    return by_slug + by_uuid


async def stream_pages(api: LeadGeniusClient, stream: Stream, *, page_size: int,
                       fields: tuple[str, ...] | None,
                       transform: Callable[[list[dict[str, Any]]], T],
                       on_restart: Callable[[], None] = lambda: None,
                       read_ahead: anyio.Semaphore | None = None,
                       ) -> AsyncIterator[tuple[str | None, T]]:
    """(next token, transform(records)) for each page of a stream, from its checkpointed token
    on. The parsed page is released before each yield, so a consumer that waits (on a full
    queue) holds only what `transform` made of it.

    With `read_ahead`, the next page is requested before this one is transformed, so the
    server works while the client encodes; each page read ahead holds a slot of the semaphore
    until it is used, which bounds how many parsed pages wait in memory across all streams.
    A cursor the server no longer accepts (400) is paged again from the start; whoever writes
    drops the repeated records.
    """
    kind = LeadKind(stream.kind)

    async def fetch(token: str | None) -> Page:
        if api.auth.has_api_key:
            return await api.bulk_page(kind, client_slug=stream.client, limit=page_size,
                                       cursor=token, fields=fields)
        if stream.client is None:
            raise ConfigError("this export pages every client through one cursor, which needs "
                              "the API key it was started with")
        return await api.list_leads(stream.client, limit=min(page_size, MAX_LEAD_PAGE),
                                    cursor=token)

    token, restarts = stream.token, 0
    ahead: asyncio.Task[Page] | None = None
    try:
        while True:
            try:
                page = await (ahead if ahead is not None else fetch(token))
            except ApiError as error:
                if token is None or error.status != 400 or restarts >= CURSOR_RESTARTS:
                    raise
                restarts += 1
                log.warning("the server no longer accepts the cursor of %s (%s); paging it "
                            "again from its start, dropping the records already written",
                            stream.key, error)
                token = None
                on_restart()
                continue
            finally:
                if ahead is not None and read_ahead is not None:
                    ahead = None
                    read_ahead.release()
            token = page.next_token
            if token is not None and read_ahead is not None:
                try:
                    read_ahead.acquire_nowait()
                    ahead = asyncio.ensure_future(fetch(token))
                except anyio.WouldBlock:
                    pass
            made = transform(page.items)
            del page
            yield token, made
            if token is None:
                return
    finally:
        if ahead is not None:
            ahead.cancel()
            if ahead.done() and not ahead.cancelled():
                ahead.exception()  # retrieved: it no longer matters
            if read_ahead is not None:
                read_ahead.release()


async def unique_pages(api: LeadGeniusClient, stream: Stream, *, page_size: int,
                       fields: tuple[str, ...] | None) -> AsyncIterator[tuple[list[dict[str, Any]], int]]:
    """(records, repeats dropped) for each page of a stream, without the records the server
    sends again from the page before (for consumers that keep no id index: iter_leads and the
    export to a stream)."""
    previous: set[str] = set()
    async for _, records in stream_pages(api, stream, page_size=page_size, fields=fields,
                                         transform=list):
        fresh = [r for r in records if str(r.get("id")) not in previous]
        previous = {str(r.get("id")) for r in fresh}
        yield fresh, len(records) - len(fresh)


def cursor_count(api: LeadGeniusClient, streams: int) -> int:
    """How many cursors page at once: --concurrency, else the quota's fill up to MAX_CURSORS."""
    settings = api.settings
    wanted = settings.concurrency or min(settings.effective_concurrency, MAX_CURSORS)
    return max(1, min(streams, wanted))
