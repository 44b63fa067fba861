"""The journal's decisions and its reconciliation, on SQLite alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bulkio.store.import_journal import Admission, ImportJournal, Outcome


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[ImportJournal]:
    j = ImportJournal(tmp_path / "journal.db")
    yield j
    j.close()


def admit(j: ImportJournal, *rows: tuple[int, str | None, str | None], mode: str = "skip") -> list[str]:
    batch = [Admission(rowno, email, "[]", error) for rowno, email, error in rows]
    return [a.action for a in j.admit(batch, {"offset": rows[-1][0] * 10}, on_duplicate=mode)]


def test_admission_decides_each_row_and_checkpoints(journal: ImportJournal) -> None:
    """Rejected stay rejected, the second of an email is a duplicate, the checkpoint moves."""
    actions = admit(journal, (1, "a@x.com", None), (2, None, "no email"), (3, "a@x.com", None))
    assert actions == ["create", "reject", "skip"]
    assert journal.counts()["attempted"] == 1 and journal.counts()["rejected"] == 1
    assert journal.meta()["offset"] == 30 and journal.meta()["rowno"] == 3


@pytest.mark.parametrize(("mode", "action"), [("skip", "skip"), ("update", "update"),
                                              ("create", "create")])
def test_an_email_already_in_the_client_follows_on_duplicate(journal: ImportJournal, mode: str,
                                                             action: str) -> None:
    """skip leaves it, update targets the existing lead, create sends anyway; once per file."""
    journal.add_existing([("a@x.com", "lead-old")])
    assert admit(journal, (1, "a@x.com", None), (2, "a@x.com", None), mode=mode) == [action, "skip"]


def test_reconcile_finds_lost_answers_but_never_a_preexisting_lead(journal: ImportJournal) -> None:
    """An attempted row whose email is listed under a new lead was created; the pre-existing
    lead of the same email (create mode) is not taken for it."""
    journal.add_existing([("b@x.com", "lead-pre")])
    admit(journal, (1, "a@x.com", None), (2, "b@x.com", None), (3, "c@x.com", None), mode="create")
    journal.add_snapshot([("a@x.com", "lead-1"), ("b@x.com", "lead-pre")])
    assert journal.reconcile(verify=False, final=False) == {"found": 1, "missing": 0,
                                                              "batch_found": 0}
    assert [r[0] for r in journal.to_resend()] == [2, 3]


def test_verification_resends_once_then_fails(journal: ImportJournal) -> None:
    """A created lead missing from the list is re-sent once; missing again, the row fails."""
    admit(journal, (1, "a@x.com", None))
    journal.record([Outcome(1, "created", lead_id="lead-1")])
    journal.reconcile(verify=True, final=False)  # empty snapshot: lead-1 is missing
    assert [r[0] for r in journal.to_resend()] == [1]
    journal.record([Outcome(1, "created", lead_id="lead-2")])
    journal.reconcile(verify=True, final=False)
    assert journal.counts()["failed"] == 1 and not journal.to_resend()


def test_the_final_round_fails_what_is_still_unknown(journal: ImportJournal) -> None:
    """After the last round nothing stays in between: the identity holds."""
    admit(journal, (1, "a@x.com", None), (2, None, None))
    journal.record([Outcome(1, "attempted", error="no answer"),
                    Outcome(2, "attempted", error="no answer")])
    journal.reconcile(verify=False, final=True)
    counts = journal.counts()
    assert counts["failed"] == 2 and counts["attempted"] == 0
    assert [e for _, e, _ in journal.rejects()] == ["no answer", "outcome unknown and no email to "
                                                                  "look it up by"]
