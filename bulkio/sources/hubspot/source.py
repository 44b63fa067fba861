"""`hubspot:<kind>` as an import source: which kinds there are, and the source object the
importer reads (what a file's `Source` is for a path)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...errors import ConfigError
from .client import HubSpotClient
from .contacts import CompanyCache, ContactRecords
from .leads_v1 import V1LeadRecords

PREFIX = "hubspot:"
KINDS = ("contacts", "leads-v1")


def hubspot_kind(source: str) -> str | None:
    """The kind of a `hubspot:<kind>` source; None for anything else (a file). A source that
    starts with `hubspot:` is never read as a file: an unknown kind is a ConfigError."""
    if not source.startswith(PREFIX):
        return None
    kind = source[len(PREFIX):]
    if kind not in KINDS:
        raise ConfigError(f"unknown HubSpot source {source!r}: use "
                          f"{' or '.join(PREFIX + k for k in KINDS)}")
    return kind


@dataclass(frozen=True)
class HubSpotOptions:
    """What `bulkio import hubspot:...` can be told about HubSpot itself."""

    properties: tuple[str, ...] = ()  # more contact properties (to notes unless mapped)
    company_properties: tuple[str, ...] = ()
    since: str | None = None  # v1: ISO date or time, UTC unless it says
    until: str | None = None


@dataclass
class HubSpotSource:
    """A HubSpot portal's contacts or legacy leads, read through `client`."""

    name: str  # hubspot:contacts, hubspot:leads-v1
    kind: str
    client: HubSpotClient
    options: HubSpotOptions
    reader: ContactRecords | V1LeadRecords = field(init=False)
    format = "ndjson"
    size = None

    def open(self, cache: CompanyCache) -> None:
        """Make the reader; contacts cache their companies in the job's database."""
        if self.kind == "contacts":
            self.reader = ContactRecords(self.client, cache, properties=self.options.properties,
                                         company_properties=self.options.company_properties)
        else:
            self.reader = V1LeadRecords(self.client, since_ms=epoch_ms(self.options.since, "--since"),
                                        until_ms=epoch_ms(self.options.until, "--until"))

    def fingerprint(self) -> dict[str, Any]:
        """What must not change between a run and its --resume."""
        o = self.options
        return {"hubspot": self.kind, "base_url": self.client.settings.base_url,
                "properties": list(o.properties), "company_properties": list(o.company_properties),
                "since": o.since, "until": o.until}

    def fraction_read(self) -> float | None:
        return None  # HubSpot's list does not say how long it is

    def notices(self) -> list[str]:
        s = self.client.stats
        return [f"HubSpot answered {s.requests:,} requests ({s.retries:,} retries, "
                f"{s.rate_limited:,} rate-limited) in this run"]

    async def aclose(self) -> None:
        if hasattr(self, "reader"):
            await self.reader.aclose()


def epoch_ms(text: str | None, flag: str) -> int | None:
    """An ISO date or date-time (UTC unless it says) as epoch milliseconds."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{flag} takes an ISO date or time (2026-01-31, or "
                          f"2026-01-31T08:00:00+01:00), not {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def split_names(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """`a,b` (or a list of them) as property names, once each."""
    if not values:
        return ()
    items = values.split(",") if isinstance(values, str) else [v for x in values for v in x.split(",")]
    return tuple(dict.fromkeys(v.strip() for v in items if v.strip()))
