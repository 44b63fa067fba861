"""Values that cross module boundaries: frozen, slotted dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


@dataclass(frozen=True, slots=True)
class Client:
    """A LeadGenius client. `slug` (the API's `client_id`) files leads; `id` is the record's UUID."""

    id: str
    slug: str
    name: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Client:
        return cls(id=str(data.get("id", "")), slug=str(data.get("client_id", "")),
                   name=str(data.get("clientName", "")), raw=data)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a cursor: its records and the cursor of the next page (None at the end)."""

    items: list[dict[str, Any]]
    next_token: str | None


class LeadKind(Enum):
    """The two bulk list endpoints."""

    ENRICH = "enrich-leads"
    SOURCE = "source-leads"
