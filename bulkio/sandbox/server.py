"""Running the sandbox: in-process for tests (`run_sandbox`), or as `bulkio sandbox`."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import orjson
from aiohttp import web

from .api_keys import ApiKeys
from .app import create_app
from .chaos import Chaos
from .config import LOOPBACK, SandboxConfig
from .hubspot.seed import seed_hubspot
from .hubspot.store import HubSpotStore
from .hubspot.twin import HubSpotTwin
from .legacy.routes import LegacyTwin
from .legacy.store import LegacyStore
from .processing import seed_settings
from .ratelimit import SlidingWindowQuota
from .seed import seed
from .state import SandboxState
from .store import Store


@dataclass
class Sandbox:
    """A running sandbox: where it listens, who may log in, and its state for tests."""

    base_url: str
    email: str
    password: str
    api_key: str
    user_id: str
    company_id: str
    token: str
    state: SandboxState
    hubspot: HubSpotTwin
    legacy: LegacyTwin

    @property
    def legacy_api_key(self) -> str:
        """The legacy enrichment API's key (LEADGENIUS_LEGACY_API_KEY)."""
        return self.legacy.key

    @property
    def hubspot_token(self) -> str:
        """The HubSpot twin's private-app token (HUBSPOT_ACCESS_TOKEN)."""
        return self.hubspot.token

    def info(self) -> dict[str, str]:
        """The fields `bulkio sandbox` prints as its one JSON line."""
        return {"base_url": self.base_url, "email": self.email, "password": self.password,
                "api_key": self.api_key, "user_id": self.user_id,
                "company_id": self.company_id, "token": self.token,
                "hubspot_token": self.hubspot_token, "legacy_api_key": self.legacy_api_key}

    @property
    def config(self) -> SandboxConfig:
        return self.state.config


def build_state(config: SandboxConfig) -> tuple[SandboxState, HubSpotTwin, LegacyTwin]:
    store = Store(config.db)
    user = store.ensure_user(config.email)
    state = SandboxState(config=config, store=store, user=user, chaos=Chaos(config),
                         quota=SlidingWindowQuota(), api_keys=ApiKeys(store.db))
    if config.api_key:
        state.api_keys.add(user.id, user.api_key, "sign-up key")
    if store.fresh and (config.clients or config.leads or config.source_leads):
        seed(store, user, config.clients, config.leads, config.source_leads,
             random.Random(config.chaos_seed))
    if config.processing_settings:
        seed_settings(state.processing, user.company_id)
    # The twin's token is kept with the data, so a --db rehearsal keeps working after a restart.
    hs_store = HubSpotStore(store.db)
    twin = HubSpotTwin(hs_store, config, token=store.hubspot_token(),  # its own dice, apart from the leads'
                       rng=random.Random(None if config.chaos_seed is None else -config.chaos_seed - 1))
    if store.fresh and (config.hubspot_contacts or config.hubspot_leads_v1):
        seed_hubspot(hs_store, random.Random(config.chaos_seed), contacts=config.hubspot_contacts,
                     leads_v1=config.hubspot_leads_v1, bulk_edit=config.hubspot_bulk_edit,
                     skew_s=config.hubspot_clock_skew_s)
    legacy = LegacyTwin(LegacyStore(store.db, config.legacy_allowance), config,
                        key=store.legacy_api_key(),
                        rng=random.Random(None if config.chaos_seed is None else config.chaos_seed + 7))
    return state, twin, legacy


@asynccontextmanager
async def run_sandbox(config: SandboxConfig | None = None, *, host: str = LOOPBACK,
                      port: int = 0) -> AsyncIterator[Sandbox]:
    """Serve a sandbox for the duration of the block; `port=0` takes any free port.

    Example:
        async with run_sandbox(SandboxConfig(quota_per_minute=None)) as sb:
            print(sb.base_url, sb.email, sb.password)
    """
    config = config or SandboxConfig()
    state, twin, legacy = build_state(config)
    runner = web.AppRunner(create_app(state, twin, legacy), access_log=None,
                           handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        user = state.user
        yield Sandbox(base_url=f"http://{host}:{bound}", email=user.email, password=user.password,
                      api_key=user.api_key if config.api_key else "", user_id=user.id,
                      company_id=user.company_id,
                      token=state.access_token(user), state=state, hubspot=twin,
                      legacy=legacy)
    finally:
        await runner.cleanup()
        state.store.close()


async def serve(config: SandboxConfig, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM; print the one JSON line on stdout once listening."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with run_sandbox(config, host=host, port=port) as sandbox:
        sys.stdout.write(orjson.dumps(sandbox.info()).decode() + "\n")
        sys.stdout.flush()
        if not sandbox.state.store.fresh:
            print(f"bulkio sandbox: reopened {config.db}: its data is kept as it is (--clients, "
                  "--leads, --source-leads and --hubspot-contacts/-leads-v1 make the data of a "
                  "new file only)", file=sys.stderr, flush=True)
        leads = sandbox.state.store.db.execute("SELECT count(*) FROM leads").fetchone()[0]
        hubspot = sandbox.hubspot.store.counts()
        print(f"bulkio sandbox listening on {sandbox.base_url} ({leads} leads stored; HubSpot "
              f"twin: {hubspot['hs_contacts']} contacts, {hubspot['hs_v1_leads']} v1 leads); "
              "Ctrl-C stops it", file=sys.stderr, flush=True)
        await stop.wait()
