"""The library entry point for `bulkio sync hubspot:contacts`: `sync_contacts` (one run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ConfigError
from ..http.retry import RetryPolicy
from ..leadgenius.settings import Settings, resolve_settings
from ..models import ImportProgress
from ..ops.sync.job import ARCHIVED_ACTIONS, SyncOptions, SyncReport
from ..ops.sync.start import sync_once
from ..sources.hubspot.settings import HubSpotSettings, resolve_hubspot_settings
from ..store.files import check_output_dir, check_output_file
from .running import options_of, run_operation


async def sync_contacts(client: str, *, settings: Settings | None = None,
                        hubspot: HubSpotSettings | None = None,
                        options: SyncOptions | None = None,
                        on_phase: Callable[[str], None] | None = None,
                        on_progress: Callable[[ImportProgress], None] | None = None,
                        policy: RetryPolicy | None = None, **option_values: Any) -> SyncReport:
    """One run of the sync of a HubSpot portal's contacts into a client: the whole portal the
    first time, then what changed since the last run (created, modified, archived, merged).

    Example:
        report = await bulkio.sync_contacts("acme-corp", archived="note")
        print(report.created, report.updated, report.mark)

    `on_phase` is told each phase in a line; `on_progress` follows the imports a run makes
    (the whole portal the first time, then the new contacts). The state (the mark, each
    contact's lead) lives in `options.state_dir` (default: one per
    client under the user's state directory). Raises ConfigError (bad options, another sync
    of the same state running, a changed mapping), AuthError; an interrupted run is
    continued by the next one.
    """
    options = options_of(options or SyncOptions(), {**option_values, "client": client})
    if options.archived not in ARCHIVED_ACTIONS:
        raise ConfigError(f"--archived must be {', '.join(ARCHIVED_ACTIONS)}")
    if options.lookback_s < 0:
        raise ConfigError("--lookback cannot be negative")
    check_output_dir(options.state_dir, "--state-dir")  # before the first request, not after
    check_output_file(options.report, "--report")
    return await run_operation(sync_once(settings or resolve_settings(),
                                         hubspot or resolve_hubspot_settings(), options,
                                         on_phase or (lambda _: None), policy, on_progress))
