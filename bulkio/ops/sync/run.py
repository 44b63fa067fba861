"""One run of `bulkio sync hubspot:contacts`.

The first run (no mark yet) is a whole `import hubspot:contacts` into the client, whose
journal gives each contact its lead. A later run reads what changed since the mark (less the
lookback, for the search's lag) and the archived contacts, decides what each needs, journals
that, then writes: updates, creates (through the import engine), then what --archived says.
The mark moves to min(run start, newest change read) only when every change is settled
(after a first run, whatever its import could not write is carried instead); what a run leaves
unsettled is carried into the next run's journal. A run interrupted at any point is continued
by the next one, under the rules it began with.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ...leadgenius.client import LeadGeniusClient
from ...models import ImportProgress
from ...sources.hubspot.changes import ChangeReader
from ...sources.hubspot.client import HubSpotClient
from ...sources.hubspot.contacts import contact_columns
from ...sources.hubspot.source import HubSpotSource
from ...store.files import atomic_write, private_dir
from ...store.serial import Serial
from ...store.source_cache import CompanyCache
from ...store.sync_state import SyncState
from ..imports.importer import Importer
from ..imports.input import ImportInput
from ..imports.job import ImportOptions
from ..imports.job import open_job as open_import_job
from ..runs import write_report
from .creates import ChangesToCreate, CreatesSource, learn_from_import
from .job import SyncOptions, SyncReport, run_rules
from .plan import decide
from .reading import read_archived, read_changed
from .writing import Writer

log = logging.getLogger("bulkio.sync")
DECIDE = 500
RUN_KEYS = ("read_after", "newest_ms", "changed_read", "archived_read", "archived_after",
            "creates_listed")


def iso_ms(moment: int | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment / 1000, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


class SyncRun:
    def __init__(self, api: LeadGeniusClient, hs: HubSpotClient, state: SyncState,
                 options: SyncOptions, say: Callable[[str], None],
                 on_progress: Callable[[ImportProgress], None] | None = None) -> None:
        self.on_progress = on_progress  # the imports' (the first run, new contacts)
        self.api = api
        self.hs = hs
        self.state = state
        self.options = options
        self.say = say
        self.serial = Serial()
        self.started = time.monotonic()
        props, company_props, self.columns = contact_columns(
            options.hubspot.properties, options.hubspot.company_properties)
        self.properties, self.company_properties = props, company_props

    def import_options(self, job_dir: Path, *, first: bool, listed: bool = False
                       ) -> ImportOptions:
        """The import's options: the first run's lists the client and matches its leads by
        email (--on-duplicate); so does a later run's that sends again a create that failed
        before (`listed`: it may be stored all the same). Other creates are new contacts:
        no listing; each new lead is known by its answer (a lost one is looked up all the
        same: the settlement), without the final verification."""
        o = self.options
        listed = listed or first
        return ImportOptions(
            client=o.client, mapping=o.mapping, unmapped_to_notes=o.unmapped_to_notes,
            on_duplicate=o.on_duplicate if listed else "skip", job_dir=job_dir,
            resume=(job_dir / "journal.db").exists(), settle_s=o.settle_s,
            hubspot=o.hubspot, client_locked=True, client_known=not listed, verify=first,
            rejects=job_dir / "rejects.ndjson")

    def builder_input(self, reader: Any) -> ImportInput:
        rows = ImportInput(reader, ImportOptions(
            mapping=self.options.mapping, unmapped_to_notes=self.options.unmapped_to_notes))
        rows.for_client(self.options.client)
        return rows

    async def run(self) -> SyncReport:
        meta = self.state.meta()
        if meta.get("run") is None or meta.get("run_started_ms") is None:
            number = int(meta.get("runs", 0)) + 1
            self.state.begin_run(drop=RUN_KEYS, run=number,
                                 run_started_ms=int(time.time() * 1000),
                                 run_rules=run_rules(self.options))
            meta = self.state.meta()
        else:
            log.warning("continuing run %s, interrupted before it ended", meta["run"])
        report = SyncReport(run=int(meta["run"]), client=self.options.client,
                            archived_action=self.options.archived,
                            state_dir=str(self.state.folder),
                            previous_mark=iso_ms(meta.get("mark_ms")))
        folder = private_dir(self.state.folder / "runs" / str(report.run))
        if meta.get("mark_ms") is None:
            report.first_run = True
            await self.first(folder, report)
        else:
            await self.later(folder, meta, report)
        return self.finish(folder, report)

    async def rehearse(self) -> SyncReport:
        """A dry run, on a copy of the state: read what changed and decide what each contact
        needs; send nothing. The report says what a run would do (status `dry_run`)."""
        meta = self.state.meta()
        report = SyncReport(status="dry_run", client=self.options.client,
                            run=int(meta.get("runs", 0)) + 1, archived_action=self.options.archived,
                            state_dir=str(self.state.folder),
                            previous_mark=iso_ms(meta.get("mark_ms")))
        if meta.get("mark_ms") is None:
            report.first_run = True
            report.notices.append("no run yet: the first run imports the whole portal (see "
                                  "bulkio import hubspot:contacts --dry-run for how it is read)")
            return report
        self.state.begin_run(drop=RUN_KEYS, run_started_ms=int(time.time() * 1000))
        with tempfile.TemporaryDirectory(prefix="bulkio-sync-dry-run-") as folder:
            await self.read(Path(folder), self.state.meta(), report)
        await self.decide()
        self.count(report, planned=True)
        report.hubspot_requests = self.hs.stats.requests
        report.elapsed_s = round(time.monotonic() - self.started, 3)
        if self.options.report is not None:
            write_report(self.options.report, report)
        return report

    # -- the first run ---------------------------------------------------------------------

    async def first(self, folder: Path, report: SyncReport) -> None:
        self.say("first run: importing the whole portal")
        options = self.import_options(folder / "import", first=True)
        source = HubSpotSource("hubspot:contacts", "contacts", self.hs, options.hubspot)
        job_dir, journal, resumed = open_import_job(
            "hubspot:contacts", options, source.fingerprint(), where=str(folder))
        cache = CompanyCache(job_dir)
        try:
            source.open(cache)
            await source.reader.probe()
            imported = await Importer(self.api, source, journal, job_dir, resumed, options,
                                      self.on_progress).run()
            rows = self.builder_input(source.reader)
            counts = await self.serial(learn_from_import, journal, rows, self.state,
                                       in_run=False)
        finally:
            await source.aclose()
            cache.close()
            journal.close()
        report.seen = imported.rows_read
        report.created, report.updated = imported.created, imported.updated
        report.rejected, report.failed = imported.rejected, imported.failed
        report.unchanged = imported.skipped_duplicate
        report.rejects_path = imported.rejects_path
        log.info("first run: %s", counts)
        if imported.failed:
            self.say(f"{imported.failed:,} contact(s) could not be written: the next run tries "
                     "them again (listing the client first, as any of them may be stored)")

    # -- later runs ------------------------------------------------------------------------

    async def later(self, folder: Path, meta: dict[str, Any], report: SyncReport) -> None:
        await self.read(folder, meta, report)
        await self.decide()
        writer = Writer(self.api, self.state, self.serial)
        self.say("updating leads")
        await writer.updates()
        if await self.serial(self.state.todo, "create", 1):
            self.say("creating leads")
            await self.create(folder)
        todo = await self.serial(self.state.todo, "archive", 1)
        if todo:
            self.write_listed(folder, report)
            self.say(f"archived and merged contacts: {self.options.archived}")
            await writer.archived(self.options.archived)

    async def read(self, folder: Path, meta: dict[str, Any], report: SyncReport) -> None:
        since = int(meta["mark_ms"]) - int(self.options.lookback_s * 1000)
        if not meta.get("changed_read"):
            self.say(f"reading the contacts changed since {iso_ms(since)}")
            cache = CompanyCache(folder)
            try:
                reader = ChangeReader(self.hs, self.properties, cache, self.company_properties)
                await read_changed(reader, self.state, self.serial, self.columns, since, meta)
            finally:
                cache.close()
        if not meta.get("archived_read"):
            self.say("reading the archived contacts")
            report.archived_list_requests = await read_archived(self.hs, self.state, self.serial,
                                                                self.state.meta())
        if self.hs.clock.offset_low is not None:
            self.state.set_meta(hubspot_offset_s=self.hs.clock.offset_low)

    async def decide(self) -> None:
        rows = self.builder_input(ChangesToCreate(self.state, self.columns))
        while batch := await self.serial(self.state.undecided, DECIDE):
            known = await self.serial(self.state.known, [c.hubspot_id for c in batch])
            decisions, settled = [], []
            for change in batch:
                action, fields, reason = decide(change, known.get(change.hubspot_id),
                                                rows.builder,
                                                clear_emptied=self.options.clear_emptied)
                decisions.append((change.hubspot_id, action,
                                  fields if action == "update" else None))
                if action in ("unchanged", "none"):
                    settled.append((change.hubspot_id, "done", reason))
                elif action == "reject":
                    settled.append((change.hubspot_id, "rejected", reason))
            # in the search again: restored in HubSpot, its lead (kept or noted) goes on with it
            revived = [(c.hubspot_id, k.lead_id, k.sent, "live") for c in batch
                       if c.kind == "changed" and (k := known.get(c.hubspot_id)) is not None
                       and k.state in ("archived", "merged") and k.lead_id]
            await self.serial(self.state.remember, revived)
            await self.serial(self.state.decide, decisions)
            await self.serial(self.state.settle, settled)

    async def create(self, folder: Path) -> None:
        meta = self.state.meta()
        if "creates_listed" not in meta:  # decided once: a continued run keeps its import's rules
            listed = await self.serial(self.state.carried, "create") > 0
            await self.serial(self.state.set_meta, creates_listed=listed)
        else:
            listed = bool(meta["creates_listed"])
        options = self.import_options(folder / "import", first=False, listed=listed)
        source = CreatesSource(ChangesToCreate(self.state, self.columns))
        job_dir, journal, resumed = open_import_job(
            source.name, options, source.fingerprint(), where=str(folder))
        try:
            await Importer(self.api, source, journal, job_dir, resumed, options,
                           self.on_progress).run()
            await self.serial(learn_from_import, journal, self.builder_input(source.reader),
                              self.state, in_run=True)
        finally:
            journal.close()

    def write_listed(self, folder: Path, report: SyncReport) -> None:
        """The archived and merged contacts this run handles, listed before anything is done
        to their leads."""
        todo = [c for _, c in self.state.todo("archive", 10**9)]
        known = self.state.known(c.hubspot_id for c in todo)
        path = folder / "archived.ndjson"
        atomic_write(path, b"".join(orjson.dumps({
            "hubspot_id": c.hubspot_id, "kind": c.kind, "merged_into": c.survivor,
            "lead_id": known[c.hubspot_id].lead_id, "action": self.options.archived}) + b"\n"
            for c in todo))
        report.listed_path = str(path)

    # -- the end ---------------------------------------------------------------------------

    def finish(self, folder: Path, report: SyncReport) -> SyncReport:
        meta = self.state.meta()
        if not report.first_run:
            self.count(report)
        unsettled = 0 if report.first_run else self.state.unsettled()
        mark: int | None = None
        if unsettled:
            report.mark = iso_ms(meta.get("mark_ms"))
            log.warning("%d change(s) not settled: the mark stays at %s, and the next run "
                        "tries them again", unsettled, report.mark)
        else:
            started = int(meta["run_started_ms"]) + self.hubspot_offset_ms(meta)
            newest = meta.get("newest_ms")
            mark = started if newest is None else min(started, int(newest))
            mark = max(mark, int(meta.get("mark_ms") or 0))
            report.mark = iso_ms(mark)
        bad = list(self.state.outcomes(("rejected", "failed")))
        if bad:
            path = folder / "rejects.ndjson"
            atomic_write(path, b"".join(orjson.dumps({
                "hubspot_id": h, "kind": k, "action": a, "reason": r, "record": rec}) + b"\n"
                for h, k, a, r, rec in bad))
            report.rejects_path = str(path)
        s, h = self.api.stats, self.hs.stats
        report.leadgenius_requests, report.hubspot_requests = s.requests, h.requests
        report.retries, report.rate_limited = s.retries + h.retries, s.rate_limited + h.rate_limited
        report.elapsed_s = round(time.monotonic() - self.started, 3)
        report.status = "finished"
        write_report(folder / "report.json", report)
        if self.options.report is not None:
            write_report(self.options.report, report)
        self.state.end_run(mark_ms=mark, runs=report.run,
                           drop=("run", "run_started_ms", "run_rules", *RUN_KEYS))
        return report

    def hubspot_offset_ms(self, meta: dict[str, Any]) -> int:
        """HubSpot's clock minus ours (a lower bound, from its Date headers: the mark is in
        its clock, like the lastmodifieddate it is compared with), kept in the state for a
        run continued by a process that asks HubSpot nothing."""
        offset = self.hs.clock.offset_low
        if offset is not None:
            self.state.set_meta(hubspot_offset_s=offset)
        else:
            offset = meta.get("hubspot_offset_s")
        if offset is None:
            log.warning("HubSpot sent no Date header: its clock is taken to be this machine's "
                        "(a difference larger than --lookback would miss changes)")
            return 0
        return int(float(offset) * 1000)

    def count(self, report: SyncReport, *, planned: bool = False) -> None:
        """The run's counts from its journal; `planned` (a dry run): what each would do."""
        report.carried = self.state.carried()
        for (kind, action, status), n in self.state.change_counts().items():
            done = status == "done" or (planned and status == "todo")
            if kind != "changed":
                if action == "archive" and done:
                    report.archived += n * (kind == "archived")
                    report.merged += n * (kind == "merged")
                elif status in ("failed", "todo"):
                    report.failed += n
                continue
            report.seen += n
            if status == "rejected":
                report.rejected += n
            elif not done and status in ("failed", "todo"):
                report.failed += n
            elif action == "create":
                report.created += n
            elif action == "update":
                report.updated += n
            else:
                report.unchanged += n
