"""Enrichment campaigns' webhooks, received by `bulkio serve`.

`POST /hooks/campaigns/<token>` (a token per campaign, made by `campaign upload --webhook-url
auto`; the token is the only credential, as the API signs nothing): a delivery is answered at
once, its record ids kept once each (a delivery sent twice adds nothing), and the finalized
records are then fetched in the background, 100 a request (`?id=`), into the campaign's file
(DATA_DIR/campaigns/<slug>.ndjson, each record once) or, for a campaign uploaded with
`--into-client`, into that Pro client (the round trip: updates, and the import engine for new
leads). Deliveries get lost: a sweep (`--poll-every`) asks for this machine's records that no
delivery announced, while any is not finalized.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import orjson

from ..api.campaigns import into_client
from ..enrichment.client import EnrichmentClient, open_enrichment
from ..enrichment.settings import EnrichmentSettings
from ..leadgenius.settings import Settings
from ..ops.campaigns.download import flat
from ..store.campaign_registry import CampaignRegistry
from ..store.files import atomic_write, private_dir, private_file

log = logging.getLogger("bulkio.service")
IDS_A_REQUEST = 100


class CampaignHooks:
    def __init__(self, registry: Callable[[], CampaignRegistry], legacy: EnrichmentSettings,
                 pro: Settings, data_dir: Path, *, poll_every: float) -> None:
        self.registry = registry
        self.legacy = legacy
        self.pro = pro
        self.folder = data_dir / "campaigns"
        self.poll_every = poll_every
        self.wake = anyio.Event()
        self.written: dict[str, set[int]] = {}  # the ids each campaign's file holds
        self.failures = 0
        self.on_fetched: Callable[[], None] | None = None  # after each batch (tests wait on it)

    # -- deliveries --------------------------------------------------------------------------

    def receive(self, token: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """(status, answer) for a delivery: 404 for an unknown token, 400 for a malformed
        body (nothing kept), else 200 at once; the fetching happens after."""
        with self.registry() as registry:
            hooked = registry.hooked(token)
            if not hooked:
                return 404, {"detail": "Not found."}
            base_url, slug, _ = hooked[0]
            try:
                delivery = orjson.loads(body)
            except orjson.JSONDecodeError:
                return 400, {"detail": "the body is not JSON"}
            ids = delivery.get("records") if isinstance(delivery, dict) else None
            if not isinstance(ids, list) or not all(
                    isinstance(i, int) and not isinstance(i, bool) for i in ids):
                return 400, {"detail": "records must be a list of record ids"}
            if delivery.get("slug") != slug:
                return 400, {"detail": "the delivery is for another campaign"}
            new = registry.announce(base_url, slug, ids, via="webhook")
        self.wake.set()
        return 200, {"received": len(ids), "new": new}

    # -- the background work -----------------------------------------------------------------

    async def run(self) -> None:
        """Fetch what was announced; sweep for what was not, every --poll-every."""
        swept_at = -self.poll_every
        while True:
            wake = self.wake = anyio.Event()  # before the work: a delivery during it counts
            now = anyio.current_time()
            try:
                if now - swept_at >= self.poll_every:
                    swept_at = now
                    await self.sweep()
                await self.fetch_announced()
                self.failures = 0
            except Exception as error:  # the API down a while: the next round tries again
                self.failures += 1
                log.warning("campaign webhooks: %s (trying again later)", error)
            next_sweep = swept_at + self.poll_every - anyio.current_time()
            retry = 5.0 * 2 ** min(self.failures, 6) if self.failures else next_sweep
            with anyio.move_on_after(max(0.0, min(next_sweep, retry))):
                await wake.wait()

    async def sweep(self) -> None:
        with self.registry() as registry:
            campaigns = [c for c in registry.hooked() if c[0] == self.legacy.base_url]
            waiting = {(b, s): registry.unannounced(b, s) for b, s, _ in campaigns}
        waiting = {k: v for k, v in waiting.items() if v}
        if not waiting:
            return
        async with open_enrichment(self.legacy) as api:
            for (base_url, slug), ids in waiting.items():
                done: list[int] = []
                for at in range(0, len(ids), IDS_A_REQUEST):
                    page = await api.records(slug, ids=ids[at:at + IDS_A_REQUEST])
                    done += [int(r["id"]) for r in page["results"] if r.get("finalized")]
                with self.registry() as registry:
                    found = registry.announce(base_url, slug, done, via="sweep")
                if found:
                    log.warning("campaign %s: %d finalized records no webhook announced, "
                                "found by the sweep", slug, found)

    async def fetch_announced(self) -> None:
        with self.registry() as registry:
            campaigns = [c for c in registry.hooked() if c[0] == self.legacy.base_url]
            waiting = [c for c in campaigns if registry.to_fetch(c[0], c[1], 1)]
        if not waiting:
            return
        async with open_enrichment(self.legacy) as api:
            for base_url, slug, client in waiting:
                await self._fetch(api, base_url, slug, client)

    async def _fetch(self, api: EnrichmentClient, base_url: str, slug: str,
                     client: str | None) -> None:
        """The campaign's announced records, 100 a request, until none is left or those left
        are not finalized yet (asked again at the next round). An announced id the campaign
        does not have is dropped, and said."""
        while True:
            with self.registry() as registry:
                ids = registry.to_fetch(base_url, slug, IDS_A_REQUEST)
            if not ids:
                return
            page = await api.records(slug, ids=ids)
            shown = {int(r["id"]): r for r in page["results"]}
            records = [flat(r) for r in shown.values() if r.get("finalized")]
            unknown = [i for i in ids if i not in shown]
            if unknown:
                log.warning("campaign %s: %d announced record ids are not in it (%s...): "
                            "dropped", slug, len(unknown), unknown[:3])
            if client:
                await self._into_client(slug, client, records, base_url)
            else:
                self._into_file(slug, records)
            done = [int(r["id"]) for r in records] + unknown
            with self.registry() as registry:
                registry.fetched(base_url, slug, done)
            if self.on_fetched is not None:
                self.on_fetched()
            if len(done) < len(ids):  # some not finalized yet: the next round
                return

    def _into_file(self, slug: str, records: list[dict[str, Any]]) -> None:
        path = private_file(private_dir(self.folder) / f"{slug}.ndjson")
        written = self.written.get(slug)
        if written is None:  # what earlier runs wrote (a crash after writing, before marking)
            written = self.written[slug] = {
                int(orjson.loads(line)["id"]) for line in path.read_bytes().splitlines()
                if line.strip()}
        lines = [orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE) for r in records
                 if int(r["id"]) not in written]
        with path.open("ab") as out:
            out.write(b"".join(lines))
        written.update(int(r["id"]) for r in records)

    async def _into_client(self, slug: str, client: str, records: list[dict[str, Any]],
                           base_url: str) -> None:
        folder = private_dir(self.folder / f"{slug}-into-{client}")
        batch = folder / "records.ndjson"
        atomic_write(batch, b"".join(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE)
                                     for r in records))
        trip, report = await into_client(self.pro, batch, folder, client=client,
                                         campaign=(base_url, slug), on_duplicate="update")
        log.warning("campaign %s into %s: %d leads updated, %d unchanged, %d new", slug,
                    client, trip.updated, trip.unchanged, trip.new)
        if report is not None and report.interrupted:
            raise RuntimeError(f"the import of campaign {slug}'s new leads stopped")
