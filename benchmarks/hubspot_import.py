"""Benchmark 9, hubspot-import: the HubSpot import guide's script against `bulkio import
hubspot:contacts`.

- Leads a minute, side by side: the guide's template (fetch every contact and company first,
  then one POST per lead with its 150 ms sleep; benchmarks/baselines/hubspot_guide.py) and
  bulkio, each against a fresh sandbox at the premium quota and 300 ms latency on every
  request (LeadGenius and HubSpot alike), measured from the first stored lead after a warm-up
  (the guide sends nothing until it has read everything). Goal: bulkio at >= 0.97 of the
  LeadGenius quota.
- HubSpot requests a contact, for a whole import (bulkio's own count; the guide's, counted
  from its method). Goal: <= 0.03.
- Peak RSS of a real `bulkio import hubspot:contacts` process over 1,000,000 contacts, both
  quotas off. Goal: < 200 MB.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import bulkio_env, sandbox, steady_rate
from .peak_rss import run_measured

NAME = "hubspot-import"
GUIDE = Path(__file__).parent / "baselines" / "hubspot_guide.py"
QUOTA = 1000  # premium, a minute


def run(quick: bool) -> dict[str, Any]:
    seconds, warm_up = (6, 3.0) if quick else (60, 6.0)
    contacts = 600 if quick else 3000
    figures: dict[str, Any] = {"quick": quick, "quota_per_min": QUOTA, "latency_ms": 300,
                               "contacts": contacts, "seconds": seconds}
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-hubspot-") as tmp:
        for name in ("guide", "bulkio"):
            db = Path(tmp) / f"{name}.db"
            with sandbox("--quota", "premium", "--latency-ms", "300", "--clients", "1",
                         "--hubspot-contacts", str(contacts), "--db", str(db)) as sb:
                info = sb.info
                argv = ([sys.executable, str(GUIDE), info["base_url"], info["email"],
                         info["password"], "acme-corp", info["base_url"], info["hubspot_token"]]
                        if name == "guide" else
                        [sys.executable, "-m", "bulkio", "import", "hubspot:contacts", "--client",
                         "acme-corp", "--tier", "premium", "--quiet",
                         "--job-dir", str(Path(tmp) / "job-rate")])
                env = {**bulkio_env(info, Path(tmp) / "auth.json"),
                       "HUBSPOT_ACCESS_TOKEN": info["hubspot_token"],
                       "HUBSPOT_BASE_URL": info["base_url"]}
                figures[f"{name}_leads_per_min"], figures[f"{name}_series"] = steady_rate(
                    argv, env, db, "acme-corp", warm_up, seconds, from_first_lead=True)
        figures["bulkio_share_of_quota"] = figures["bulkio_leads_per_min"] / QUOTA
        figures["ratio"] = figures["bulkio_leads_per_min"] / max(figures["guide_leads_per_min"], 1e-9)
        figures.update(_requests_per_contact(Path(tmp), 5_000 if quick else 20_000))
        figures.update(_memory(Path(tmp), 20_000 if quick else 1_000_000))
    return figures


def _import(tmp: Path, info: dict[str, str], job: str) -> tuple[list[str], dict[str, str]]:
    argv = [sys.executable, "-m", "bulkio", "import", "hubspot:contacts", "--client", "acme-corp",
            "--rate", "unlimited", "--hubspot-rate", "unlimited", "--settle", "0", "--quiet",
            "--job-dir", str(tmp / job)]
    env = {**bulkio_env(info, tmp / "auth.json"), "HUBSPOT_ACCESS_TOKEN": info["hubspot_token"],
           "HUBSPOT_BASE_URL": info["base_url"]}
    return argv, env


def _requests_per_contact(tmp: Path, contacts: int) -> dict[str, Any]:
    """A whole import: HubSpot's requests a contact, from bulkio's log; and what the guide's
    method costs on the same portal (a page per 100 contacts, a read per 100 companies)."""
    with sandbox("--quota", "unlimited", "--clients", "1", "--hubspot-contacts",
                 str(contacts), "--hubspot-rate", "unlimited") as sb:
        argv, env = _import(tmp, sb.info, "job-requests")
        run_measured(argv, env)
    said = (tmp / "job-requests" / "log.txt").read_text()
    requests = int(re.findall(r"HubSpot answered ([\d,]+) requests", said)[-1].replace(",", ""))
    companies = contacts // 4  # the twin's: one for about every four contacts
    guide = -(-contacts // 100) + -(-companies // 100)
    return {"requests_contacts": contacts, "bulkio_hubspot_requests": requests,
            "bulkio_requests_per_contact": requests / contacts,
            "guide_requests_per_contact": guide / contacts}


def _memory(tmp: Path, contacts: int) -> dict[str, Any]:
    with sandbox("--quota", "unlimited", "--clients", "1", "--hubspot-contacts",
                 str(contacts), "--hubspot-rate", "unlimited", "--db", str(tmp / "big.db")) as sb:
        argv, env = _import(tmp, sb.info, "job-memory")
        start = time.perf_counter()
        code, peak_mb = run_measured(argv, env)
        elapsed = time.perf_counter() - start
    return {"memory_contacts": contacts, "memory_exit_code": code, "peak_rss_mb": peak_mb,
            "memory_elapsed_s": elapsed, "memory_contacts_per_s": contacts / elapsed}


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"premium quota, {f['latency_ms']} ms latency: guide's script / bulkio, leads a minute",
         f"{f['guide_leads_per_min']:,.0f} / {f['bulkio_leads_per_min']:,.0f} (x{f['ratio']:.1f})"),
        ("bulkio's share of the LeadGenius quota (goal >= 0.97)",
         f"{f['bulkio_share_of_quota']:.3f}"),
        (f"HubSpot requests a contact over {f['requests_contacts']:,} (goal <= 0.03)",
         f"bulkio {f['bulkio_requests_per_contact']:.4f}, guide {f['guide_requests_per_contact']:.4f}"),
        (f"peak RSS, {f['memory_contacts']:,} contacts (goal < 200 MB)",
         f"{f['peak_rss_mb']:,.0f} MB (exit {f['memory_exit_code']}, "
         f"{f['memory_contacts_per_s']:,.0f} contacts/s)"),
    ]
