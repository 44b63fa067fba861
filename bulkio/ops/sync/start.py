"""A sync's run with everything around it: the state directory and its lock, the client's
lock, the rules the state was made with, and both connections."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ...errors import ConfigError
from ...http.retry import RetryPolicy
from ...leadgenius.client import open_client
from ...leadgenius.settings import Settings
from ...models import ImportProgress
from ...sources.hubspot.client import open_hubspot
from ...sources.hubspot.settings import HubSpotSettings
from ...store.files import atomic_write
from ...store.sync_state import SyncState
from ..jobs import ClientLock, FileLock, JobBusy
from .job import (
    RUN_RULES,
    STATE_RULES,
    SyncOptions,
    SyncReport,
    default_state_dir,
    run_rules,
    state_rules,
)
from .run import SyncRun

log = logging.getLogger("bulkio.sync")
MAPPING_COPY = "mapping.json"  # the state's own copy of its --mapping


def state_folder(options: SyncOptions, settings: Settings, hubspot: HubSpotSettings) -> Path:
    return options.state_dir or default_state_dir(hubspot.base_url, settings.base_url,
                                                  options.client)


def open_state(folder: Path, options: SyncOptions) -> SyncState:
    """The state, locked for this process: a second sync of it is refused in one line."""
    what = f"sync of hubspot:contacts into {options.client}"
    lock = FileLock(folder / "lock", what, lambda holder: JobBusy(
        f"the {what} with the state in {folder} is running now ({holder}): wait for it to "
        "end, or stop it first"))
    try:
        state = SyncState(folder)
    except BaseException:
        lock.release()
        raise
    state.lock = lock
    return state


def check_rules(state: SyncState, options: SyncOptions) -> SyncOptions:
    """The options under the state's rules: its mapping and properties are its own (another
    mapping would compare other fields with what was last sent), and a run under way keeps
    the options it began with. One given with another value is refused in one line; one left
    out takes the recorded value."""
    meta = state.meta()
    if meta.get("client") not in (None, options.client):
        raise ConfigError(f"the state in {state.folder} keeps the client {meta['client']} in "
                          f"step, not {options.client}: give another --state-dir")
    current, kept = {**state_rules(options), **run_rules(options)}, state.folder / MAPPING_COPY
    if "rules" not in meta:
        if current["mapping"] is not None:
            atomic_write(kept, current["mapping"].encode())
        state.set_meta(rules=state_rules(options), client=options.client)
        meta = state.meta()
    defaults = {**state_rules(SyncOptions()), **run_rules(SyncOptions())}
    given = set(options.given) if options.given is not None else {
        k for k in current if current[k] != defaults[k]}
    recorded = dict(meta["rules"])
    if meta.get("run_started_ms") is not None:
        recorded.update(meta.get("run_rules") or {})
    flags = {**STATE_RULES, **RUN_RULES}
    changed = [k for k in recorded if k in given and current.get(k) != recorded[k]]
    if changed:
        said = "; ".join(f"{flags[k]} differs from the one the state was made with"
                         if k == "mapping" else f"{flags[k]} {current.get(k)!r} (the "
                         f"{'run' if k in RUN_RULES else 'state'}: {recorded[k]!r})"
                         for k in changed)
        raise ConfigError(f"the sync in {state.folder} runs under the options it began with: "
                          f"{said}. Leave them out, or start again with another --state-dir")
    adopt = {k: v for k, v in recorded.items() if k in RUN_RULES}
    hubspot = replace(options.hubspot, properties=tuple(recorded.get("properties") or ()),
                      company_properties=tuple(recorded.get("company_properties") or ()))
    return replace(options, **adopt, hubspot=hubspot,
                   unmapped_to_notes=recorded.get("unmapped_to_notes"),
                   mapping=None if recorded.get("mapping") is None else str(kept))


async def sync_once(settings: Settings, hubspot: HubSpotSettings, options: SyncOptions,
                    say: Callable[[str], None], policy: RetryPolicy | None = None,
                    on_progress: Callable[[ImportProgress], None] | None = None) -> SyncReport:
    folder = state_folder(options, settings, hubspot)
    state = open_state(folder, options)
    try:
        options = check_rules(state, options)
        if options.resume and state.meta().get("run_started_ms") is None:
            raise ConfigError(f"--resume: no run of the sync in {folder} was interrupted; "
                              "run without --resume")
        if options.dry_run:
            with tempfile.TemporaryDirectory(prefix="bulkio-sync-dry-run-") as copy:
                rehearsal = SyncState(Path(copy))
                state.db.backup(rehearsal.db)  # the state as it is, to decide on, not to keep
                state.close()
                try:
                    return await _run(settings, hubspot, rehearsal, options, say, policy, None)
                finally:
                    rehearsal.close()
        return await _run(settings, hubspot, state, options, say, policy, on_progress)
    finally:
        state.close()


async def _run(settings: Settings, hubspot: HubSpotSettings, state: SyncState,
               options: SyncOptions, say: Callable[[str], None], policy: RetryPolicy | None,
               on_progress: Callable[[ImportProgress], None] | None) -> SyncReport:
    async with open_client(settings, policy=policy) as api, \
            open_hubspot(hubspot, policy=policy) as hs:
        company = await api.company_id()
        client = (await api.resolve_client(options.client)).slug
        if client != options.client:
            raise ConfigError(f"--client {options.client}: give the client's slug ({client}), "
                              "as the state keeps it")
        run = SyncRun(api, hs, state, options, say, on_progress)
        if options.dry_run:
            return await run.rehearse()
        lock = ClientLock(settings.base_url, company, client,
                          f"sync of hubspot:contacts into {client}")
        try:
            return await run.run()
        finally:
            lock.release()
