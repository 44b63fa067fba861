"""Benchmark 13, sync: keeping a client in step with a HubSpot portal after 1% of it changed,
`bulkio sync hubspot:contacts` against what teams run without it, a full `bulkio import
hubspot:contacts --on-duplicate update` of the same portal.

A portal of 100,000 contacts is synced once (the first run imports it); then 1% of it changes in
the twin's tables (edits, changed emails, new contacts, each stamped now); then, side by side
on that same portal and client, a sync run and a full re-import. Measured: LeadGenius and
HubSpot requests (each command's own counts) and the time, with both quotas off; and the
minutes each would take at the premium quota (1,000 LeadGenius requests a minute) and
HubSpot's 100 requests per 10 s. Goals, for the 1% changed: the sync's LeadGenius requests
within 1.05x of what the changes need at the import's own cost (a batch PUT per 50 updates, a
POST per new lead, and the 3 requests any run of the import starts with: sign-in, company,
client); at least x20 fewer LeadGenius and x20 fewer HubSpot requests than the re-import.
New contacts are measured apart (0.1% of the portal), without a goal: each costs a POST, in a
sync as in an import.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from .common import bulkio_env, sandbox
from .peak_rss import run_measured

NAME = "sync"
LEADGENIUS_PER_MIN = 1000  # premium
START = 3  # what any run of the import asks first: sign-in, company, client
HUBSPOT_PER_MIN = 600  # 100 per 10 s


def run(quick: bool) -> dict[str, Any]:
    contacts = 5_000 if quick else 100_000
    figures: dict[str, Any] = {"quick": quick, "contacts": contacts}
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-sync-") as folder:
        tmp = Path(folder)
        db = tmp / "sandbox.db"
        with sandbox("--quota", "unlimited", "--clients", "1", "--hubspot-contacts",
                     str(contacts), "--hubspot-rate", "unlimited", "--hubspot-search-rate",
                     "unlimited", "--db", str(db)) as sb:
            env = {**bulkio_env(sb.info, tmp / "auth.json"),
                   "HUBSPOT_ACCESS_TOKEN": sb.info["hubspot_token"],
                   "HUBSPOT_BASE_URL": sb.info["base_url"]}
            figures["first_run_s"] = _sync(tmp, env)["elapsed_s"]
            # 1% of the contacts changed (9 in 10 edited, 1 in 10 a new email), then 0.1% new
            for step, (edited, new) in (("edits", (contacts // 100, 0)),
                                        ("new", (0, contacts // 1000))):
                figures.update(_change(db, step, edited, new))
                report = _sync(tmp, env)
                figures.update({f"{step}_sync_{k}": report[k] for k in (
                    "seen", "created", "updated", "unchanged", "leadgenius_requests",
                    "hubspot_requests", "archived_list_requests", "elapsed_s")})
                figures.update(_reimport(tmp, env, step))
    for step in ("edits", "new"):
        f = {k[len(step) + 1:]: v for k, v in figures.items() if k.startswith(f"{step}_")}
        needed = START + f["sync_created"] + -(-f["sync_updated"] // 50)
        figures[f"{step}_needed_leadgenius_requests"] = needed
        figures[f"{step}_sync_share_of_needed"] = f["sync_leadgenius_requests"] / max(1, needed)
        figures[f"{step}_fewer_leadgenius"] = (f["reimport_leadgenius_requests"]
                                               / max(1, f["sync_leadgenius_requests"]))
        figures[f"{step}_fewer_hubspot"] = (f["reimport_hubspot_requests"]
                                            / max(1, f["sync_hubspot_requests"]))
        for who in ("sync", "reimport"):
            figures[f"{step}_{who}_minutes_at_quota"] = max(
                f[f"{who}_leadgenius_requests"] / LEADGENIUS_PER_MIN,
                f[f"{who}_hubspot_requests"] / HUBSPOT_PER_MIN)
    return figures


def _sync(tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    argv = [sys.executable, "-m", "bulkio", "sync", "hubspot:contacts", "--client", "acme-corp",
            "--state-dir", str(tmp / "state"), "--rate", "unlimited", "--hubspot-rate",
            "unlimited", "--hubspot-search-rate", "unlimited", "--lookback", "0s", "--quiet",
            "--report", str(tmp / "sync.json")]
    code, _ = run_measured(argv, env)
    report: dict[str, Any] = orjson.loads((tmp / "sync.json").read_bytes())
    report["exit_code"] = code
    return report


def _change(db: Path, step: str, edited: int, new: int) -> dict[str, Any]:
    """`edited` contacts change now (9 in 10 a new title, 1 in 10 a new email) and `new` ones
    are added, stamped now and visible to the search at once."""
    now = int(time.time() * 1000)
    with sqlite3.connect(db, timeout=30) as conn:
        rows = conn.execute("SELECT id, props FROM hs_contacts WHERE archived_at IS NULL "
                            "AND props LIKE '%@%' ORDER BY id LIMIT ?", (edited,)).fetchall()
        split = len(rows) * 9 // 10
        updates = [(orjson.dumps({**orjson.loads(p), "jobtitle": f"Director {cid}"}).decode(),
                    cid) for cid, p in rows[:split]]
        updates += [(orjson.dumps({**orjson.loads(p), "email": f"moved.{cid}@example.org"})
                     .decode(), cid) for cid, p in rows[split:]]
        conn.executemany("UPDATE hs_contacts SET props = ?, modified_ms = ?, indexed_ms = ? "
                         "WHERE id = ?", [(p, now, now, cid) for p, cid in updates])
        top = int(conn.execute("SELECT max(id) FROM hs_contacts").fetchone()[0])
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now / 1000))
        conn.executemany(
            "INSERT INTO hs_contacts (id, props, companies, created, created_ms, modified_ms, "
            "indexed_ms) VALUES (?, ?, '[]', ?, ?, ?, ?)",
            [(top + i, orjson.dumps({"firstname": "New", "lastname": f"Contact{i}",
                                     "email": f"new.contact.{top + i}@example.org"}).decode(),
              created, now, now, now) for i in range(1, new + 1)])
    return {f"{step}_edited": split, f"{step}_emails": len(rows) - split, f"{step}_new": new}


def _reimport(tmp: Path, env: dict[str, str], step: str) -> dict[str, Any]:
    job = tmp / f"reimport-{step}"
    argv = [sys.executable, "-m", "bulkio", "import", "hubspot:contacts", "--client", "acme-corp",
            "--on-duplicate", "update", "--rate", "unlimited", "--hubspot-rate", "unlimited",
            "--settle", "0", "--quiet", "--job-dir", str(job)]
    start = time.perf_counter()
    code, _ = run_measured(argv, env)
    elapsed = time.perf_counter() - start
    report = orjson.loads((job / "report.json").read_bytes())
    said = (job / "log.txt").read_text()
    hubspot = int(re.findall(r"HubSpot answered ([\d,]+) requests", said)[-1].replace(",", ""))
    return {f"{step}_reimport_exit_code": code,
            f"{step}_reimport_leadgenius_requests": report["requests"],
            f"{step}_reimport_hubspot_requests": hubspot, f"{step}_reimport_elapsed_s": elapsed}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for step, what in (("edits", f"{f['edits_edited'] + f['edits_emails']:,} contacts changed "
                                 f"(1% of {f['contacts']:,}: {f['edits_emails']:,} a new email)"),
                       ("new", f"{f['new_new']:,} new contacts (0.1%)")):
        g = {k[len(step) + 1:]: v for k, v in f.items() if k.startswith(f"{step}_")}
        out += [
            (f"{what}: what the sync did",
             f"read {g['sync_seen']:,}: {g['sync_created']:,} created, {g['sync_updated']:,} "
             "updated"),
            ("  LeadGenius requests: sync / needed by the changes, at the import's cost "
             "(goal <= 1.05)",
             f"{g['sync_leadgenius_requests']:,} / {g['needed_leadgenius_requests']:,} "
             f"({g['sync_share_of_needed']:.3f})"),
            ("  LeadGenius requests: full re-import / sync"
             + (" (goal >= x20)" if step == "edits" else " (no goal: a POST a new lead)"),
             f"{g['reimport_leadgenius_requests']:,} / {g['sync_leadgenius_requests']:,} "
             f"(x{g['fewer_leadgenius']:.1f})"),
            ("  HubSpot requests: full re-import / sync"
             + (" (goal >= x20)" if step == "edits" else ""),
             f"{g['reimport_hubspot_requests']:,} / {g['sync_hubspot_requests']:,} "
             f"(x{g['fewer_hubspot']:.1f}; {g['sync_archived_list_requests']:,} of the sync's "
             "read the archived list)"),
            ("  minutes at the premium quota and 100 HubSpot requests / 10 s: re-import / sync",
             f"{g['reimport_minutes_at_quota']:.1f} / {g['sync_minutes_at_quota']:.2f}"),
            ("  seconds, quotas off: re-import / sync",
             f"{g['reimport_elapsed_s']:.1f} / {g['sync_elapsed_s']:.1f}"),
        ]
    out.append(("first sync (the whole portal imported), seconds, quotas off",
                f"{f['first_run_s']:.0f}"))
    return out
