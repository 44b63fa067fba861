"""A sync's options, its report, and where its state lives."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ...errors import ConfigError
from ...sources.hubspot.source import HubSpotOptions
from ..jobs import state_dir

ARCHIVED_ACTIONS = ("keep", "note", "delete")
DEFAULT_LOOKBACK_S = 600.0

SYNC_REPORT_KEYS = (
    "status", "run", "first_run", "client", "seen", "created", "updated", "unchanged",
    "archived", "archived_action", "merged", "rejected", "failed", "carried", "hubspot_requests",
    "archived_list_requests", "leadgenius_requests", "retries", "rate_limited", "mark",
    "previous_mark", "elapsed_s", "state_dir", "rejects_path", "listed_path")


@dataclass(frozen=True)
class SyncOptions:
    """Everything `bulkio sync hubspot:contacts` can be told, besides the connections."""

    client: str = ""
    state_dir: Path | None = None
    lookback_s: float = DEFAULT_LOOKBACK_S
    archived: Literal["keep", "note", "delete"] = "keep"
    clear_emptied: bool = False
    on_duplicate: Literal["skip", "update", "create"] = "update"  # the first run's matching
    mapping: str | None = None
    unmapped_to_notes: bool | None = None
    hubspot: HubSpotOptions = field(default_factory=HubSpotOptions)
    resume: bool = False
    dry_run: bool = False
    report: Path | None = None
    settle_s: float = 30.0
    given: frozenset[str] | None = None  # the options the user set (see ops.rules)


#: What decides what a sync sends, fixed when its state is made (and its flag).
STATE_RULES = {"mapping": "--mapping", "unmapped_to_notes": "--unmapped",
               "properties": "--hubspot-properties",
               "company_properties": "--hubspot-company-properties"}
#: What decides what a run does, fixed for a run under way (--resume).
RUN_RULES = {"archived": "--archived", "clear_emptied": "--clear-emptied",
             "lookback_s": "--lookback", "on_duplicate": "--on-duplicate"}


def state_rules(options: SyncOptions) -> dict[str, Any]:
    mapping = None
    if options.mapping is not None:
        try:
            mapping = Path(options.mapping).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read --mapping {options.mapping}: {exc.strerror}") from None
    return {"mapping": mapping, "unmapped_to_notes": options.unmapped_to_notes,
            "properties": list(options.hubspot.properties),
            "company_properties": list(options.hubspot.company_properties)}


def run_rules(options: SyncOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in RUN_RULES}


def default_state_dir(hubspot_base: str, leadgenius_base: str, client: str) -> Path:
    """One state per (portal, LeadGenius, client) under the user's state directory."""
    digest = hashlib.sha1(f"{hubspot_base}|{leadgenius_base}|{client}".encode()).hexdigest()[:10]
    return state_dir() / "sync" / f"hubspot-contacts-{client}-{digest}"


@dataclass
class SyncReport:
    """One run. `seen` = created + updated + unchanged + rejected + failed (the changed
    contacts); archived and merged contacts are counted apart."""

    status: str = "running"  # finished | interrupted | failed
    run: int = 0
    first_run: bool = False
    client: str = ""
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    archived: int = 0
    archived_action: str = "keep"
    merged: int = 0
    rejected: int = 0
    failed: int = 0
    carried: int = 0  # of these, left unsettled by the run before and tried again
    hubspot_requests: int = 0
    archived_list_requests: int = 0  # reading the archived contacts (no date filter)
    leadgenius_requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    mark: str | None = None  # the new mark (ISO 8601); unchanged when something is unsettled
    previous_mark: str | None = None
    elapsed_s: float = 0.0
    state_dir: str = ""
    rejects_path: str | None = None
    listed_path: str | None = None  # the archived and merged contacts handled, one a line
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        if self.status == "dry_run":
            return True
        return self.status == "finished" and not (self.rejected or self.failed)

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        return {key: values[key] for key in SYNC_REPORT_KEYS}
