"""Checking --fields before an export writes them: a name no lead carries would be an empty
column (the server projects silently), which is how `FirstName` for `firstName` goes unseen."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from ...errors import ConfigError
from ...formats.mapping import FIELDS
from ...leadgenius.client import LeadGeniusClient
from ...models import LeadKind
from ...store.export_checkpoint import Stream

SAMPLE = 100  # records looked at (one request, not projected)


async def check_fields(api: LeadGeniusClient, streams: Sequence[Stream],
                       fields: Sequence[str]) -> None:
    """ConfigError naming each requested field that neither the API's known lead fields nor
    a sample of the leads carries, with the closest name when there is one."""
    known = set(FIELDS) | {"id", "client_id"} | await _sampled_keys(api, streams)
    unknown = [f for f in fields if f not in known]
    if not unknown:
        return
    said = []
    for name in unknown:
        match = {k.casefold(): k for k in known}.get(name.casefold()) or next(
            iter(difflib.get_close_matches(name, known, n=1, cutoff=0.7)), None)
        said.append(f"{name!r}" + (f" (did you mean {match!r}?)" if match else ""))
    raise ConfigError(f"--fields names {', '.join(said)}, which no lead carries (field names "
                      "are case-sensitive); --allow-unknown-fields exports such a field anyway, "
                      "as an empty column")


async def _sampled_keys(api: LeadGeniusClient, streams: Sequence[Stream]) -> set[str]:
    """The keys of the first records of the first stream of each kind."""
    keys: set[str] = set()
    for kind in dict.fromkeys(s.kind for s in streams):
        stream = next(s for s in streams if s.kind == kind)
        if api.auth.has_api_key:
            page = await api.bulk_page(LeadKind(kind), client_slug=stream.client, limit=SAMPLE)
        elif stream.client is not None:
            page = await api.list_leads(stream.client, limit=SAMPLE)
        else:
            continue
        for record in page.items:
            keys.update(record)
    return keys
