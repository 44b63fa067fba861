"""Settlement decides, from the client's own listing, what happened to rows whose answer is
unknown: created (never sent again), or sent again; and removes the leads a late batch created
twice, never a lead that was there before. Driven here on a real journal and a fake client
whose listing the test writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bulkio.leadgenius.client import LeadGeniusClient
from bulkio.models import Page
from bulkio.ops.imports.batch import BatchPolicy
from bulkio.ops.imports.settle import MAX_ROUNDS, Rows, Settlement
from bulkio.store.import_journal import Admission, ImportJournal, Outcome
from bulkio.store.serial import Serial


class FakeClient:
    """A client's leads as a list; deletes remove them (unless told to ignore them)."""

    def __init__(self) -> None:
        self.leads: list[dict[str, Any]] = []
        self.listings = 0
        self.deleted: list[str] = []
        self.auth = SimpleNamespace(has_api_key=True)
        self.quota = SimpleNamespace(per_minute=None)

    def add(self, lead_id: str, email: str) -> None:
        self.leads.append({"id": lead_id, "email": email})

    async def lead_pages(self, slug: str, fields: list[str]) -> AsyncIterator[Page]:
        self.listings += 1
        yield Page(list(self.leads), None)

    async def delete_leads(self, ids: list[str]) -> None:
        self.deleted += ids
        self.leads = [lead for lead in self.leads if lead["id"] not in ids]


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[ImportJournal]:
    j = ImportJournal(tmp_path / "journal.db")
    j.set_meta(pre_complete=True)
    yield j
    j.close()


def admit(journal: ImportJournal, *emails: str) -> None:
    batch = [Admission(n, email, f'{{"email": "{email}"}}') for n, email in enumerate(emails, 1)]
    journal.admit(batch, {"offset": len(emails)}, on_duplicate="create")


def settlement(api: FakeClient, journal: ImportJournal, resend: Any,
               policy: BatchPolicy | None = None) -> Settlement:
    async def nothing() -> None:
        return None

    return Settlement(cast(LeadGeniusClient, api), Serial(), journal, "acme", 0.0,
                      policy or BatchPolicy("single"), resend=resend, refresh=nothing,
                      say=lambda phase: None)


async def test_a_lost_answer_that_created_its_lead_is_never_sent_again(
        journal: ImportJournal) -> None:
    """Two answers lost: the one whose email is listed was created (by that lead); only the
    other goes again, and once it is listed too, nothing is left."""
    api = FakeClient()
    admit(journal, "a@x.com", "b@x.com")
    journal.record([Outcome(1, "attempted", error="answer lost"),
                    Outcome(2, "attempted", error="answer lost")])
    api.add("lead-a", "a@x.com")
    sent_again: list[int] = []

    async def resend(rows: Rows, rounds_left: int | None) -> None:
        sent_again.extend(row[0] for row in rows)
        api.add("lead-b", "b@x.com")
        journal.record([Outcome(row[0], "created", lead_id="lead-b") for row in rows])

    await settlement(api, journal, resend).final_rounds(verify=True)
    assert sent_again == [2]
    assert journal.counts()["created"] == 2 and journal.counts()["failed"] == 0
    assert dict(journal.db.execute("SELECT rowno, lead_id FROM rows")) == {1: "lead-a",
                                                                           2: "lead-b"}


async def test_a_lead_that_was_there_before_is_never_taken_for_a_row(
        journal: ImportJournal) -> None:
    """--on-duplicate create: a lead of the same email that the client held before the job is
    not the row's; the row is sent again."""
    api = FakeClient()
    journal.add_existing([("a@x.com", "lead-before")])
    api.add("lead-before", "a@x.com")
    admit(journal, "a@x.com")
    journal.record([Outcome(1, "attempted", error="answer lost")])
    sent_again: list[int] = []

    async def resend(rows: Rows, rounds_left: int | None) -> None:
        sent_again.extend(row[0] for row in rows)
        api.add("lead-new", "a@x.com")
        journal.record([Outcome(row[0], "created", lead_id="lead-new") for row in rows])

    await settlement(api, journal, resend).final_rounds(verify=True)
    assert sent_again == [1]
    assert journal.db.execute("SELECT lead_id FROM rows").fetchone()[0] == "lead-new"


async def test_a_row_the_server_never_stores_fails_after_the_last_round(
        journal: ImportJournal) -> None:
    """Sent again round after round and never listed: after the last round it fails, with
    its error; it is never called created."""
    api = FakeClient()
    admit(journal, "a@x.com")
    journal.record([Outcome(1, "attempted", error="answer lost")])
    rounds: list[int | None] = []

    async def resend(rows: Rows, rounds_left: int | None) -> None:
        rounds.append(rounds_left)
        journal.record([Outcome(row[0], "attempted", error="answer lost again") for row in rows])

    await settlement(api, journal, resend).final_rounds(verify=False)
    assert rounds == list(range(MAX_ROUNDS - 1, 0, -1))  # a re-send per round but the last
    assert journal.counts()["failed"] == 1 and journal.counts()["created"] == 0
    assert [e for _, e, _ in journal.rejects()] == ["answer lost again"]


async def test_verification_sends_a_created_lead_that_went_missing_once(
        journal: ImportJournal) -> None:
    """An answer said created, the listing does not have it: sent again once (the batch path
    answers 201 and may store nothing); found then, the row is created."""
    api = FakeClient()
    admit(journal, "a@x.com")
    journal.record([Outcome(1, "created", lead_id="lead-ghost")])
    sent_again: list[int] = []

    async def resend(rows: Rows, rounds_left: int | None) -> None:
        sent_again.extend(row[0] for row in rows)
        api.add("lead-real", "a@x.com")
        journal.record([Outcome(row[0], "created", lead_id="lead-real") for row in rows])

    await settlement(api, journal, resend).final_rounds(verify=True)
    assert sent_again == [1]
    assert journal.db.execute("SELECT state, lead_id FROM rows").fetchone() == ("created",
                                                                               "lead-real")


async def test_leads_a_late_batch_created_twice_are_deleted_and_nothing_else(
        journal: ImportJournal) -> None:
    """A batch found missing is sent again; the batch is then stored after all: the email is
    listed twice. The extra lead goes (50 a request), the row keeps its own, and the lead the
    client held before the job with another row's email is never touched."""
    api = FakeClient()
    journal.add_existing([("c@x.com", "lead-before")])
    api.add("lead-before", "c@x.com")
    admit(journal, "a@x.com", "b@x.com")
    journal.mark_batched([1, 2])
    journal.record([Outcome(n, "attempted", sent_as="batch", awaiting=True) for n in (1, 2)])
    policy = BatchPolicy("batch")

    async def resend(rows: Rows, rounds_left: int | None) -> None:
        for rowno, *_ in rows:  # sent alone, created; then the late batch lands too
            email = ("a@x.com", "b@x.com")[rowno - 1]
            api.add(f"lead-{rowno}", email)
            api.add(f"late-{rowno}", email)
        journal.record([Outcome(row[0], "created", lead_id=f"lead-{row[0]}") for row in rows])

    await settlement(api, journal, resend, policy).final_rounds(verify=True)
    assert sorted(api.deleted) == ["late-1", "late-2"]
    assert sorted(lead["id"] for lead in api.leads) == ["lead-1", "lead-2", "lead-before"]
    assert journal.batch_figures()["duplicates_removed"] == 2
    assert journal.counts()["created"] == 2


async def test_what_the_batches_stored_reaches_the_policy(journal: ImportJournal) -> None:
    """A listing that finds none of `auto`'s first batch makes it fall back to single leads,
    said once."""
    api = FakeClient()
    emails = [f"r{n}@x.com" for n in range(1, 51)]
    admit(journal, *emails)
    journal.mark_batched(list(range(1, 51)))
    journal.record([Outcome(n, "attempted", sent_as="batch", awaiting=True)
                    for n in range(1, 51)])
    policy = BatchPolicy("auto")
    policy.batch_next()
    policy.batch_sent()

    async def resend(rows: Rows, rounds_left: int | None) -> None:
        for rowno, *_ in rows:
            api.add(f"lead-{rowno}", emails[rowno - 1])
        journal.record([Outcome(row[0], "created", lead_id=f"lead-{row[0]}") for row in rows])

    await settlement(api, journal, resend, policy).final_rounds(verify=True)
    assert policy.fell_back and policy.persistence == 0.0 and len(policy.notices()) == 1
    assert journal.counts()["created"] == 50
