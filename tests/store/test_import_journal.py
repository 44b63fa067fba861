"""The journal's decisions and its reconciliation, on SQLite alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.store.import_journal import Admission, ImportJournal, Outcome
from bulkio.store.listing_checks import carries, compared_values, listed, signature


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
    journal.add_snapshot(listed([{"id": "lead-1", "email": "a@x.com"},
                                 {"id": "lead-pre", "email": "b@x.com"}], 0.0))
    settled = journal.reconcile(verify=False, final=False)
    assert (settled["found"], settled["missing"], settled["batch_found"]) == (1, 0, 0)
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


ANA = {"firstName": "Ana", "lastName": "Ruiz", "companyName": "Acme SA", "email": "ana@x.org"}


def admit_lead(j: ImportJournal, rowno: int, lead: dict[str, str]) -> None:
    j.admit([Admission(rowno, lead["email"], "[]", sig=signature(lead))], {"offset": rowno},
            on_duplicate="skip")


def test_a_listed_lead_with_the_email_but_other_values_is_foreign(journal: ImportJournal) -> None:
    """Someone else's lead with the row's email (other names) is neither adopted nor later
    deleted: counted, and the row is sent again; the row's own lead, listed, is adopted."""
    admit_lead(journal, 1, ANA)
    journal.record([Outcome(1, "attempted", error="answer lost")])
    foreign = {**ANA, "id": "lead-theirs", "firstName": "Anabel"}
    journal.add_snapshot(listed([foreign], 1.0))
    assert journal.reconcile(verify=False, final=False)["found"] == 0
    assert [r[0] for r in journal.to_resend()] == [1]
    journal.record([Outcome(1, "created", lead_id="lead-ours")])
    journal.reset_snapshot()
    journal.add_snapshot(listed([foreign, {**ANA, "id": "lead-ours"}], 2.0))
    assert journal.find_extras() == (0, None) and journal.extras_to_delete() == []
    assert journal.batch_figures()["foreign_leads"] == 1


def test_a_row_sent_twice_alone_is_searched_for_its_twin(journal: ImportJournal) -> None:
    """A single send listed late after its row was sent again: the earlier lead, carrying the
    row's values (in another case, with spaces), is an extra; lateness runs from the row's
    first answer to the page that showed the extra."""
    admit_lead(journal, 1, ANA)
    journal.record([Outcome(1, "attempted", error="answer lost")])
    answered = journal.db.execute("SELECT answered_at FROM rows").fetchone()[0]
    journal.to_resend()  # found missing: sent again
    journal.record([Outcome(1, "created", lead_id="lead-2")])
    late = {"id": "lead-1", "email": "ANA@x.org", "firstName": " ana ", "lastName": "RUIZ",
            "companyName": "acme sa"}
    journal.add_snapshot(listed([{**ANA, "id": "lead-2"}, late], answered + 3.5))
    found, lateness = journal.find_extras()
    assert found == 1 and journal.extras_to_delete() == ["lead-1"]
    assert lateness == pytest.approx(3.5)


def test_a_row_sent_once_is_not_searched_for_a_twin(journal: ImportJournal) -> None:
    admit_lead(journal, 1, ANA)
    journal.record([Outcome(1, "created", lead_id="lead-1")])
    journal.add_snapshot(listed([{**ANA, "id": "lead-1"}, {**ANA, "id": "lead-other"}], 1.0))
    assert journal.find_extras() == (0, None)


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


@given(names, names, names, st.sampled_from([str.upper, str.lower, str.title, str.strip]))
def test_a_lead_carries_its_values_in_any_case_and_spacing(
        first: str, last: str, company: str, change: Callable[[str], str]) -> None:
    sent = {"firstName": first, "lastName": last, "companyName": company}
    shown = {k: f"  {change(v)} " for k, v in sent.items()}
    if all(change(v).casefold() == v.casefold() for v in sent.values()):
        assert carries(signature(sent), *compared_values(shown))


@given(names, names)
def test_a_lead_with_another_value_is_not_the_rows(first: str, other: str) -> None:
    if first.strip().casefold() != other.strip().casefold():
        assert not carries(signature({"firstName": first}), *compared_values({"firstName": other}))
    assert carries(signature({"firstName": first}), *compared_values({}))  # not shown: no verdict
    assert carries(signature({}), *compared_values({"firstName": other}))  # not sent: no verdict


def test_a_created_lead_answered_within_the_settle_time_is_not_judged(
        journal: ImportJournal) -> None:
    """Verification judges a created row not listed yet only once its answer is a settle
    time old (a listing may lag): until then it is unverified, and stays created."""
    admit_lead(journal, 1, ANA)
    journal.record([Outcome(1, "created", lead_id="lead-1")])
    answered = journal.db.execute("SELECT sent_at FROM rows").fetchone()[0]
    young = journal.reconcile(verify=True, final=False, answered_before=answered - 1)
    assert (young["unverified"], young["unverified_last"], young["missing"]) == (1, answered, 0)
    assert journal.counts()["created"] == 1 and not journal.to_resend()
    due = journal.reconcile(verify=True, final=False, answered_before=answered + 1)
    assert (due["unverified"], due["missing"]) == (0, 1)


def test_lateness_counts_only_answers_of_this_run(journal: ImportJournal) -> None:
    """A twin found after a stop says nothing of how late the server lists: no lateness."""
    admit_lead(journal, 1, ANA)
    journal.record([Outcome(1, "attempted", error="answer lost")])
    answered = journal.db.execute("SELECT answered_at FROM rows").fetchone()[0]
    journal.to_resend()
    journal.record([Outcome(1, "created", lead_id="lead-2")])
    journal.add_snapshot(listed([{**ANA, "id": "lead-2"}, {**ANA, "id": "lead-1"}],
                                answered + 86_400))
    assert journal.find_extras(run_start=answered + 3_600) == (1, None)
