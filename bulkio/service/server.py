"""Running the service: its state in DATA_DIR (token, service.db, uploads, jobs), the job
runner, the HTTP listener; one JSON line on stdout once listening; SIGINT/SIGTERM stop it,
leaving a running job to resume at the next start."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import anyio
import orjson
from aiohttp import web

from ..enrichment.settings import EnrichmentSettings
from ..leadgenius.settings import Settings
from ..ops.jobs import JobLock, state_dir
from ..store.campaign_registry import open_registry
from . import retention
from .access import TOKEN_FILE, Access, check_data_dir, load_or_create_token
from .app import create_app
from .base import Service
from .campaign_hooks import CampaignHooks
from .jobs_view import job_view, title_of
from .notify import Notifier
from .runner import Runner
from .store import ServiceStore

log = logging.getLogger("bulkio.service")


@dataclass
class Running:
    url: str
    token: str
    token_made: bool  # made at this start (then shown once; later starts name its file)
    token_file: Path
    service: Service

    def announcement(self) -> dict[str, str]:
        """The line printed once listening: the token only when it was just made, so a
        service journal (systemd, docker) does not collect it at every start."""
        if self.token_made:
            return {"url": self.url, "token": self.token}
        return {"url": self.url, "token_file": str(self.token_file.absolute())}


@asynccontextmanager
async def run_service(settings: Settings, data_dir: Path, *, host: str, port: int,
                      max_upload_mb: int, settle_s: float, keep_days: float = 30.0,
                      notify_allow: list[str] | None = None,
                      public_url: str | None = None, legacy: EnrichmentSettings | None = None,
                      poll_every: float = 600.0) -> AsyncIterator[Running]:
    """The service, for the duration of the block (in process, for tests; `serve` below)."""
    check_data_dir(data_dir)
    lock = JobLock(data_dir, "service")  # one per data directory; makes it private (0700)
    token, token_made = load_or_create_token(data_dir)
    store = ServiceStore(data_dir / "service.db")
    if keep_days > 0:
        log.warning("bulkio serve: uploads, job inputs and finished jobs' files are deleted "
                    "%g days after they were made or ended (--keep-days; the job history "
                    "keeps their counts)", keep_days)
        retention.sweep(store, data_dir, keep_days)
    changed: dict[str, asyncio.Event] = {}

    def notify(job_id: str) -> None:
        event = changed.pop(job_id, None)
        if event is not None:
            event.set()

    notifier = Notifier(notify_allow or [], public_url or "")

    def ended(job_id: str) -> None:
        job = store.job(job_id)
        if job is not None:
            notifier.job_ended(job_view(job, None), title_of(job))

    runner = Runner(store, settings, data_dir, settle_s=settle_s, notify=notify, on_end=ended)
    service = Service(data_dir=data_dir, settings=settings, access=Access(token, store), store=store,
                      runner=runner, max_upload_bytes=max_upload_mb << 20, changed=changed,
                      keep_days=keep_days, notifier=notifier)
    if legacy is not None:
        service.hooks = CampaignHooks(lambda: open_registry(state_dir()), legacy, settings,
                                      data_dir, poll_every=poll_every)
    web_runner = web.AppRunner(create_app(service), access_log=None, handle_signals=False)
    await web_runner.setup()
    jobs = asyncio.ensure_future(runner.run())
    hooking: asyncio.Future[None] | None = None
    # The webhook loop is stopped through a cancel scope of its own: asyncio's task.cancel(),
    # landing inside one of the loop's move_on_after scopes, could be taken for that scope's
    # and swallowed (anyio 4.3), and the service never stopped.
    hooks_scope = anyio.CancelScope()
    sweeping = asyncio.ensure_future(retention.keep_sweeping(store, data_dir, keep_days))
    try:
        site = web.TCPSite(web_runner, host, port)
        await site.start()
        bound = web_runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        if not public_url:  # links in notifications: where the service listens
            notifier.public_url = f"http://{shown}:{bound}"
        if service.hooks is not None:  # where `campaign upload --webhook-url auto` points
            with open_registry(state_dir()) as registry:
                registry.set_service_url(notifier.public_url)
            hooking = asyncio.ensure_future(_in_scope(hooks_scope, service.hooks.run()))
        yield Running(url=f"http://{shown}:{bound}", token=token, token_made=token_made,
                      token_file=data_dir / TOKEN_FILE, service=service)
    finally:
        service.stop_streams()
        await notifier.drain()
        hooks_scope.cancel()
        for task in (jobs, sweeping, *([hooking] if hooking else [])):
            if task is not hooking:
                task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await web_runner.cleanup()
        store.close()
        lock.release()


async def _in_scope(scope: anyio.CancelScope, work: Awaitable[None]) -> None:
    with scope:
        await work


async def serve(settings: Settings, data_dir: Path, *, host: str, port: int,
                max_upload_mb: int, settle_s: float, keep_days: float,
                notify_allow: list[str], public_url: str | None,
                legacy: EnrichmentSettings | None = None, poll_every: float = 600.0) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with run_service(settings, data_dir, host=host, port=port,
                           max_upload_mb=max_upload_mb, settle_s=settle_s,
                           keep_days=keep_days, notify_allow=notify_allow,
                           public_url=public_url, legacy=legacy,
                           poll_every=poll_every) as running:
        sys.stdout.write(orjson.dumps(running.announcement()).decode() + "\n")
        sys.stdout.flush()
        log.warning("bulkio serve: listening on %s (data in %s)", running.url, data_dir)
        await stop.wait()
        log.warning("bulkio serve: stopping; a running job resumes at the next start")
