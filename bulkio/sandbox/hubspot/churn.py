"""A living portal (`--hubspot-churn N`): N changes a minute while the sandbox runs, as a
team's CRM has them: edits, new contacts, email changes, archives and merges. Each change is
logged in `HubSpotTwin.changes` (kind, contact id, when) for tests; a merge logs its survivor
too."""

from __future__ import annotations

import asyncio
import logging

from .seed import new_contact
from .twin import HubSpotTwin

log = logging.getLogger("bulkio.sandbox")
TICK_S = 0.25
KINDS = (("edit", 0.4), ("new", 0.2), ("email", 0.15), ("archive", 0.15), ("merge", 0.1))


def change(twin: HubSpotTwin, now_ms: int) -> None:
    """One change, of a kind drawn with KINDS' weights, to a live contact drawn at random."""
    store, rng, lag = twin.store, twin.rng, twin.config.hubspot_search_lag_ms
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    live = [i for (i,) in store.db.execute(
        "SELECT id FROM hs_contacts WHERE archived_at IS NULL ORDER BY random() LIMIT 2")]
    if kind == "new" or len(live) < 2:
        cid = int(store.db.execute("SELECT coalesce(max(id), 0) + 1 FROM hs_contacts")
                  .fetchone()[0])
        store.add_contacts([new_contact(rng, cid, now_ms)])
        store.modify(cid, {}, now_ms, lag)
        twin.changes.append(("new", cid, now_ms))
        return
    cid = live[0]
    if kind == "edit":
        store.modify(cid, {"jobtitle": f"Title {rng.randrange(10_000)}"}, now_ms, lag)
    elif kind == "email":
        store.modify(cid, {"email": f"moved.{cid}.{rng.randrange(10_000)}@example.org"},
                     now_ms, lag)
    elif kind == "archive":
        store.archive(cid, now_ms)
    else:
        store.merge(live[1], cid, now_ms, lag)
        twin.changes.append(("survivor", live[1], now_ms))  # changed too: it lists the loser
    twin.changes.append((kind, cid, now_ms))


async def churn_forever(twin: HubSpotTwin) -> None:
    owed = 0.0
    while True:
        await asyncio.sleep(TICK_S)
        owed += twin.config.hubspot_churn * TICK_S / 60
        try:
            while owed >= 1:
                owed -= 1
                change(twin, twin.now_ms())
                if twin.on_change is not None:
                    twin.on_change()
        except Exception:  # the portal outlives a bad moment, as HubSpot would
            log.exception("hubspot twin: a change failed")
