"""Benchmark 7, sandbox-ceiling: how fast the sandbox itself is, so no figure is its limit.

- single-lead POSTs a second against the sandbox, and against a minimal aiohttp server that
  answers the same POST with a constant (same client, same concurrency, alternating rounds in
  the same run): the ratio says how much of aiohttp's ceiling the sandbox keeps;
- seconds to serve one 5,000-lead bulk page, full records and projected to two fields;
- seconds to seed the tenant (1,000,000 leads; 100,000 in quick mode), and the sandbox's
  RSS, read from /proc.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import orjson

from .common import median_get, post_rate, sandbox, server

NAME = "sandbox-ceiling"
CONCURRENCY = 64
ROUNDS = 3


def payloads(slug: str, count: int) -> list[bytes]:
    return [orjson.dumps({"client_id": slug, "firstName": "Ada", "lastName": "Lovelace",
                          "email": f"ada{i}@example.com", "companyName": "Analytical Engines",
                          "title": "Engineer"}) for i in range(count)]


def run(quick: bool) -> dict[str, Any]:
    posts = 3_000 if quick else 20_000
    seeded = 100_000 if quick else 1_000_000
    figures: dict[str, Any] = {"quick": quick, "concurrency": CONCURRENCY, "posts": posts}

    # Both servers up at once, measured in alternating rounds, best of each: the ratio then
    # holds even when something else wakes up on the machine during one round.
    minimal = [sys.executable, str(Path(__file__).parent / "baselines" / "minimal_server.py")]
    with server(minimal) as ref, sandbox("--quota", "unlimited", "--clients", "1") as sb:
        contenders = {
            "minimal_aiohttp_posts_per_s": (ref.base_url, {"Content-Type": "application/json"}),
            "sandbox_posts_per_s": (sb.base_url, {"Authorization": f"Bearer {sb.info['token']}",
                                                  "Content-Type": "application/json"}),
        }
        body = payloads("acme-corp", posts)
        best = dict.fromkeys(contenders, 0.0)
        for _ in range(ROUNDS):
            for key, (base_url, headers) in contenders.items():
                rate = asyncio.run(post_rate(base_url + "/api/leads", headers, body, CONCURRENCY))
                best[key] = max(best[key], rate)
        figures.update(best)
    figures["post_ratio_sandbox_to_minimal"] = (
        figures["sandbox_posts_per_s"] / figures["minimal_aiohttp_posts_per_s"])

    with sandbox("--quota", "unlimited", "--clients", "20", "--leads", str(seeded)) as sb:
        figures["seeded_leads"] = seeded
        figures["seed_and_start_s"] = sb.started_in
        headers = {"x-api-key": sb.info["api_key"], "x-user-id": sb.info["user_id"]}
        url = sb.base_url + "/api/enrich-leads/list"
        base = {"companyId": sb.info["company_id"], "limit": "5000"}
        full, full_bytes = asyncio.run(median_get(url, headers, base, 15))
        projected, _ = asyncio.run(median_get(url, headers, {**base, "fields": "email,companyName"}, 15))
        figures.update({"page_5000_full_s": full, "page_5000_full_bytes": full_bytes,
                        "page_5000_projected_s": projected,
                        "records_per_s_full_pages": 5000 / full,
                        "sandbox_rss_mb": sb.rss_mb()})
    return figures


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("single POSTs/s, minimal aiohttp server", f"{f['minimal_aiohttp_posts_per_s']:,.0f}"),
        ("single POSTs/s, sandbox", f"{f['sandbox_posts_per_s']:,.0f}"),
        ("ratio sandbox / minimal", f"{f['post_ratio_sandbox_to_minimal']:.2f}"),
        ("5,000-lead page, full records", f"{f['page_5000_full_s'] * 1000:,.0f} ms "
                                          f"({f['page_5000_full_bytes'] / 1e6:.1f} MB)"),
        ("5,000-lead page, 2 fields", f"{f['page_5000_projected_s'] * 1000:,.0f} ms"),
        (f"seed {f['seeded_leads']:,} leads and start", f"{f['seed_and_start_s']:.1f} s"),
        ("sandbox RSS with the tenant in memory", f"{f['sandbox_rss_mb']:,.0f} MB"),
    ]
