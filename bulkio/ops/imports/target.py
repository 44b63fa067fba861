"""The client an import writes to: named or made at the start, kept from a purge on this
machine while the import runs, and still there at the end."""

from __future__ import annotations

import logging

from ...errors import BulkioError
from ...leadgenius.client import LeadGeniusClient
from ..jobs import ClientLock
from .job import ImportOptions

log = logging.getLogger("bulkio.import")


class ClientGone(BulkioError):
    """The target client was deleted while the import ran."""

    def __init__(self, slug: str, leads: int) -> None:
        super().__init__(f"client {slug!r} was deleted while the import ran: {leads:,} leads "
                         f"are stored under its slug, where no client shows them (a client "
                         f"made again with the slug {slug!r} would)")
        self.slug = slug
        self.leads = leads


async def target_slug(api: LeadGeniusClient, options: ImportOptions) -> str:
    """The slug of --client (a UUID translated), or of the client --create-client makes."""
    if options.create_client:
        client = await api.create_client(options.create_client)
        log.info("created client %r with slug %r", client.name, client.slug)
        return client.slug
    assert options.client
    return (await api.resolve_client(options.client)).slug


async def lock_client(api: LeadGeniusClient, slug: str, source_name: str) -> ClientLock:
    """No purge of this client on this machine while the import writes to it."""
    company = await api.company_id()
    return ClientLock(api.settings.base_url, company, slug,
                      f"import of {source_name} into {slug}")


async def check_still_there(api: LeadGeniusClient, slug: str) -> None:
    """The API stores leads under any client_id: a client deleted while the job ran leaves
    them where no client shows them. ClientGone then, saying how many."""
    if any(client.slug == slug for client in await api.list_clients()):
        return
    raise ClientGone(slug, await api.count_leads(slug))
