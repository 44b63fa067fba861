"""Lookup decides, for a trigger whose answer was lost, whether the server started its runs:
from the company's recent runs, never by guessing. Driven on a real journal and a fake client
whose recent runs the test writes (the server's clock may be set apart from ours)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import anyio
import pytest

from bulkio.leadgenius.client import LeadGeniusClient
from bulkio.leadgenius.processing import MAX_RECENT_RUNS
from bulkio.ops.process.lookup import Lookup
from bulkio.store.process_journal import ProcessJournal
from bulkio.store.serial import Serial


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds")


class FakeRuns:
    """The company's runs, newest first, at most 100 a read, as the API shows them."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []
        self.reads = 0

    def start(self, run_id: str, lead_id: str, created: float, task: str = "enrich:companyUrl",
              tag: str | None = "enrich-process") -> dict[str, Any]:
        """A run as the API documents it: a batch tag `<kind>-process-<epoch>-<rand>` (None:
        none at all), and a task identifier of no documented format."""
        run = {"id": run_id, "leadId": lead_id, "taskIdentifier": task, "createdAt": iso(created),
               "status": "EXECUTING"}
        if tag is not None:
            run["batchTag"] = f"{tag}-{int(created)}-a1b2c3"
        self.runs.insert(0, run)
        return run

    async def recent_runs(self, limit: int = MAX_RECENT_RUNS) -> list[dict[str, Any]]:
        self.reads += 1
        return self.runs[:min(limit, MAX_RECENT_RUNS)]


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[ProcessJournal]:
    j = ProcessJournal(tmp_path / "journal.db")
    j.add_selected([("lead-1", "pending", None), ("lead-2", "pending", None)])
    yield j
    j.close()


def in_doubt(journal: ProcessJournal, n: int) -> float:
    """Lead n's trigger sent and its answer lost; when it was sent."""
    journal.attempt(n)
    journal.lost(n, "answer lost")
    return float(journal.db.execute("SELECT sent_at FROM leads WHERE n = ?", (n,)).fetchone()[0])


class Decisions:
    def __init__(self, journal: ProcessJournal) -> None:
        self.journal = journal
        self.found: dict[int, list[str]] = {}
        self.resent: list[int] = []

    async def on_found(self, n: int, runs: list[dict[str, Any]]) -> None:
        self.found[n] = [r["id"] for r in runs]
        self.journal.triggered(n, [(r["id"], r["taskIdentifier"]) for r in runs], [], [], None, 1.0)

    async def on_resend(self, n: int) -> None:
        self.resent.append(n)
        self.journal.unsent(n)


async def look_up(api: FakeRuns, journal: ProcessJournal, *, settle_s: float = 0.0,
                  answered: dict[str, float] | None = None) -> tuple[Lookup, Decisions]:
    decisions = Decisions(journal)
    lookup = Lookup(cast(LeadGeniusClient, api), journal, Serial(), "enrich", settle_s,
                    decisions.on_found, decisions.on_resend)
    for run_id, at in (answered or {}).items():
        lookup.note_answered([run_id], at)
    with anyio.fail_after(10):
        await lookup.run()
    return lookup, decisions


async def test_a_trigger_that_ran_is_found_with_its_runs_and_not_sent_again(
        journal: ProcessJournal) -> None:
    api = FakeRuns()
    sent = in_doubt(journal, 1)
    api.start("run-a", "lead-1", sent + 0.2)
    api.start("run-b", "lead-1", sent + 0.3, task="enrich:enrichment1")
    _, decided = await look_up(api, journal)
    assert decided.found == {1: ["run-a", "run-b"]} and decided.resent == []
    assert journal.lead_counts()["triggered"] == 1


async def test_a_trigger_that_never_ran_is_sent_again_once_the_view_covers_its_settle_time(
        journal: ProcessJournal) -> None:
    """Every run the company has is in view (fewer than a read shows), none is this lead's,
    and the server's timeout has passed since it was sent: it never ran."""
    api = FakeRuns()
    sent = in_doubt(journal, 1)
    api.start("someone-else", "lead-2", sent + 0.1)
    _, decided = await look_up(api, journal, settle_s=0.0)
    assert decided.resent == [1] and decided.found == {}


async def test_a_run_from_before_the_trigger_is_not_taken_for_it(
        journal: ProcessJournal) -> None:
    """The lead's run of an earlier job (long before this trigger was sent) is not this
    trigger's: once our own run has placed the clocks, the trigger never ran, and goes again."""
    api = FakeRuns()
    api.start("last-week", "lead-1", time.time() - 7 * 86400)
    answered = time.time()
    api.start("ours", "lead-2", answered - 0.01)
    in_doubt(journal, 1)
    _, decided = await look_up(api, journal, answered={"ours": answered})
    assert decided.resent == [1] and decided.found == {}


async def test_when_the_view_does_not_reach_back_to_the_trigger_the_lead_ends_unknown(
        journal: ProcessJournal) -> None:
    """A hundred runs, all started after the trigger was sent (someone else is busy): the
    trigger's runs may have scrolled out of view. Nobody can tell: unknown, never re-sent."""
    api = FakeRuns()
    sent = in_doubt(journal, 1)
    for i in range(MAX_RECENT_RUNS):
        api.start(f"busy-{i}", "lead-2", sent + 10 + i)
    _, decided = await look_up(api, journal, answered={"busy-99": sent + 109.1})
    assert decided.resent == [] and decided.found == {}
    state, error = journal.db.execute("SELECT state, error FROM leads WHERE n = 1").fetchone()
    assert state == "unknown" and "could not be looked up" in error


async def test_the_servers_clock_is_placed_by_our_own_runs(journal: ProcessJournal) -> None:
    """The server's clock runs an hour ahead. A run of ours that answered at A shows
    createdAt >= A + 1 h, so the offset is known: the lead's run an hour ahead of its send
    is its trigger's, while its run from before the send (server time) is not."""
    api = FakeRuns()
    ahead = 3600.0
    answered_at = time.time()
    api.start("ours-earlier", "lead-2", answered_at + ahead - 0.01)
    sent = in_doubt(journal, 1)
    api.start("before-the-send", "lead-1", sent + ahead - 30)
    api.start("its-run", "lead-1", sent + ahead + 0.2)
    lookup, decided = await look_up(api, journal, answered={"ours-earlier": answered_at})
    assert lookup.offset is not None and lookup.offset == pytest.approx(ahead - 0.01, abs=0.01)
    assert decided.found == {1: ["its-run"]}


async def test_new_triggers_wait_for_a_read_while_a_lead_is_in_doubt(
        journal: ProcessJournal) -> None:
    """Triggers go on credit while a lead is in doubt: none before the first read, then as
    many as can start RUNS_PER_READ runs; none needed once no lead is in doubt."""
    api = FakeRuns()
    decisions = Decisions(journal)
    lookup = Lookup(cast(LeadGeniusClient, api), journal, Serial(), "enrich", 0.0,
                    decisions.on_found, decisions.on_resend)
    with anyio.fail_after(1):
        await lookup.admit()  # nothing in doubt: at once
    assert api.reads == 0
    lookup.doubted()
    assert lookup.credits == 0
    in_doubt(journal, 1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lookup.run)
        with anyio.fail_after(10):
            await lookup.admit()  # granted by a read
        assert api.reads >= 1
    assert lookup.credits is None  # resolved (sent again): no credit needed any more


@pytest.mark.parametrize("names", ["enrich:companyUrl", "lg_task_7f3a9c21e0b4", "Enrichment v2"])
async def test_runs_are_recognised_whatever_their_task_is_called(
        journal: ProcessJournal, names: str) -> None:
    """The API documents no format for taskIdentifier: a run is this kind's by its batch tag
    (or by being ours), whatever the server calls its task."""
    api = FakeRuns()
    sent = in_doubt(journal, 1)
    api.start("its-run", "lead-1", sent + 0.2, task=names)
    _, decided = await look_up(api, journal)
    assert decided.found == {1: ["its-run"]} and decided.resent == []


async def test_a_task_name_seen_on_our_own_runs_names_the_kind(journal: ProcessJournal) -> None:
    """A server that tags no run: the identifiers seen on our own answered runs are this
    kind's, so a lost trigger's run under one of them is found."""
    api = FakeRuns()
    answered = time.time()
    api.start("ours", "lead-2", answered - 0.01, task="job-42", tag=None)
    sent = in_doubt(journal, 1)
    api.start("its-run", "lead-1", sent + 0.2, task="job-42", tag=None)
    _, decided = await look_up(api, journal, answered={"ours": answered})
    assert decided.found == {1: ["its-run"]}


async def test_a_run_of_this_lead_of_unknown_kind_is_never_answered_by_a_resend(
        journal: ProcessJournal) -> None:
    """A run of the lead started after the send, that nothing says the kind of: it might be
    the trigger's. The lead ends unknown; it is not sent again (that could be a second,
    paid run)."""
    api = FakeRuns()
    answered = time.time()
    api.start("ours", "lead-2", answered - 0.01)
    sent = in_doubt(journal, 1)
    api.start("mystery", "lead-1", sent + 0.2, task="x-17", tag=None)
    _, decided = await look_up(api, journal, answered={"ours": answered})
    assert decided.resent == [] and decided.found == {}
    assert journal.db.execute("SELECT state FROM leads WHERE n = 1").fetchone()[0] == "unknown"


async def test_another_kinds_run_is_not_the_triggers(journal: ProcessJournal) -> None:
    """An SDR run of the lead (its documented tag says so) does not answer for an enrich
    trigger: that trigger never ran, and goes again."""
    api = FakeRuns()
    answered = time.time()
    api.start("ours", "lead-2", answered - 0.01)
    sent = in_doubt(journal, 1)
    api.start("sdr-run", "lead-1", sent + 0.2, task="sdr", tag="sdr-process")
    _, decided = await look_up(api, journal, answered={"ours": answered})
    assert decided.resent == [1] and decided.found == {}


async def test_a_server_clock_behind_ours_is_waited_for_not_resent(
        journal: ProcessJournal) -> None:
    """The server's clock is 90 s behind: the trigger's run reads as 90 s before the send.
    Until our own run places the clocks, nothing is decided; then it is found."""
    api = FakeRuns()
    behind = -90.0
    sent = in_doubt(journal, 1)
    api.start("its-run", "lead-1", sent + behind + 0.2)
    decisions = Decisions(journal)
    lookup = Lookup(cast(LeadGeniusClient, api), journal, Serial(), "enrich", 0.0,
                    decisions.on_found, decisions.on_resend)
    async with anyio.create_task_group() as tg:
        tg.start_soon(lookup.run)
        with anyio.fail_after(10):
            while api.reads < 3:  # read, found no clock to place them by: waits
                await anyio.sleep(0.05)
        assert decisions.found == {} and decisions.resent == []
        answered = time.time()
        api.start("ours", "lead-2", answered + behind - 0.01)
        lookup.note_answered(["ours"], answered)
    assert decisions.found == {1: ["its-run"]} and decisions.resent == []


async def test_clocks_never_placed_end_unknown(journal: ProcessJournal,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """No run of ours is ever seen: the clocks cannot be placed. Past the grace, the lead ends
    unknown rather than being sent again on a guess."""
    monkeypatch.setattr("bulkio.ops.process.lookup.UNPLACED_GIVE_UP_S", 0.0)
    api = FakeRuns()
    sent = in_doubt(journal, 1)
    api.start("earlier", "lead-1", sent - 30)  # before the send, if the clocks agree
    for i in range(MAX_RECENT_RUNS - 1):
        api.start(f"busy-{i}", "lead-2", sent + i)
    _, decided = await look_up(api, journal)
    assert decided.resent == [] and decided.found == {}
    error = journal.db.execute("SELECT error FROM leads WHERE n = 1").fetchone()[0]
    assert "clock could not be placed" in error


async def test_a_run_stamped_in_the_instant_of_its_send_is_its_triggers(
        journal: ProcessJournal) -> None:
    """The server stamps createdAt to the millisecond, rounded down: a run started in the
    same millisecond as its trigger's send reads as a fraction before it. It was once left
    out (the lead found with one of its two runs, and the report one run short)."""
    api = FakeRuns()
    answered = int(time.time()) - 1.0  # a whole second: its stamp is exact
    api.start("ours", "lead-2", answered)  # places the clocks: no offset
    in_doubt(journal, 1)
    sent = int(time.time() * 1000) / 1000 + 0.0007  # 0.7 ms into a millisecond
    journal.db.execute("UPDATE leads SET sent_at = ? WHERE n = 1", (sent,))
    api.start("run-a", "lead-1", sent)  # in the same millisecond: stamped before `sent`
    api.start("run-b", "lead-1", sent + 0.002)
    _, decided = await look_up(api, journal, answered={"ours": answered})
    assert decided.found == {1: ["run-a", "run-b"]} and decided.resent == []


async def test_triggers_admitted_but_unanswered_hold_their_credit_at_the_next_read(
        journal: ProcessJournal) -> None:
    """A read grants only what keeps the runs that may start before the next one within a
    read's view: triggers admitted earlier and still unanswered (waiting to be sent, or in
    flight) count against it. Granting afresh at each read once let two reads lie more than a
    read apart."""
    api = FakeRuns()
    decisions = Decisions(journal)
    lookup = Lookup(cast(LeadGeniusClient, api), journal, Serial(), "enrich", 3600.0,
                    decisions.on_found, decisions.on_resend, runs_per_trigger=2)
    in_doubt(journal, 1)  # never decided here: its settle time is an hour
    lookup.doubted()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lookup.run)
        with anyio.fail_after(10):
            for _ in range(lookup.per_read):
                await lookup.admit()  # admitted, never answered
            reads = api.reads
            while api.reads < reads + 2:  # reads go on, at their interval
                await anyio.sleep(0.01)
        assert lookup.credits == 0 and lookup.outstanding == lookup.per_read
        for _ in range(5):
            lookup.done()
        with anyio.fail_after(10):
            await lookup.admit()  # five answers came: five credits at the next read
        assert lookup.credits == 4
        tg.cancel_scope.cancel()
