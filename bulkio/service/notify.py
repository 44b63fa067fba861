"""A job's end told to a webhook (a Slack incoming webhook, a team's own endpoint): JSON with
the job's counts, a sentence for chat tools (`text`) and a link to the job's page.

Only hosts the operator allows (`bulkio serve --notify-allow HOST`; none by default) may be
called: a service reachable with `--public` must not be made to call any address it can
reach. Redirects are not followed (one could lead elsewhere). A failed call is logged (its host
only) and not repeated: a notification is a courtesy, the job's record is the truth.

A webhook's address is a secret (Slack's carries its key in the path): it is kept in memory
only, never in the job's records or a log, so a job that ends after a restart of the service
notifies nobody."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .mappings import BadRequest

log = logging.getLogger("bulkio.service")
TIMEOUT_S = 10.0


class Notifier:
    def __init__(self, allowed: list[str], public_url: str) -> None:
        self.allowed = {host.strip().lower().rstrip(".") for host in allowed if host.strip()}
        self.public_url = public_url.rstrip("/")
        self._sending: set[asyncio.Task[None]] = set()
        self._urls: dict[str, str] = {}  # job id -> its webhook (in memory only: a secret)

    def watch(self, job_id: str, url: str | None) -> None:
        if url:
            self._urls[job_id] = url

    def checked(self, url: Any) -> str | None:
        """The webhook URL a start request names (None when none), or BadRequest."""
        if url in (None, ""):
            return None
        parts = urlsplit(str(url))
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme not in ("https", "http") or not host:
            raise BadRequest("notify_url must be an http(s) address")
        if host not in self.allowed:
            said = ", ".join(sorted(self.allowed)) or "none"
            raise BadRequest(f"the service may only notify the hosts its operator allows "
                             f"(bulkio serve --notify-allow HOST; allowed now: {said}), not "
                             f"{host}")
        return str(url)

    def job_ended(self, view: dict[str, Any], title: str) -> None:
        """Send in the background; the job's end never waits for it."""
        url = self._urls.get(view["job_id"])  # each end: a resumed job ends again
        if url is None:
            return
        link = f"{self.public_url}/#/jobs/{view['job_id']}"
        payload = {"job_id": view["job_id"], "kind": view["kind"], "status": view["status"],
                   "title": title, "message": view.get("message"), "link": link,
                   "counts": {k: v for k, v in view.items()
                              if k.endswith("_count") or k in COUNTS},
                   "text": f"bulkio: {title}: {view['status']}. {link}"}
        task = asyncio.get_running_loop().create_task(self._send(url, payload))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, url: str, payload: dict[str, Any]) -> None:
        host = urlsplit(url).hostname
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) \
                    as http, http.post(url, json=payload, allow_redirects=False) as answer:
                if answer.status >= 300:
                    log.warning("job %s: the webhook at %s answered %s", payload["job_id"],
                                host, answer.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("job %s: the webhook at %s could not be reached (%s)",
                        payload["job_id"], host, type(error).__name__)

    async def drain(self) -> None:
        """Let notifications under way finish (at most their timeout) when the service stops."""
        if self._sending:
            await asyncio.wait(self._sending, timeout=TIMEOUT_S)


COUNTS = ("total_rows", "rows_done", "records", "found", "deleted", "remaining", "left")
