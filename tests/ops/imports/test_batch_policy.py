"""BatchPolicy decides, from what verification measured, which way each new row goes (one
lead a request, or a batch) and how rows found missing go again. Pure: no HTTP, no clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulkio.ops.imports.batch import (
    FIRST_PROBE_AFTER,
    LISTING_SHARE,
    MAX_BATCH,
    MEASURE_AT_LEAST,
    SINGLE_ROUNDS,
    BatchPolicy,
    threshold,
)


def test_batching_pays_above_one_lead_in_forty_five() -> None:
    """A batch of 50 costs fewer requests than single POSTs while it stores more than 1/(0.9·50)
    of its leads: the listings that verify take up to a tenth of the quota."""
    assert LISTING_SHARE == 0.1
    assert threshold(50) == pytest.approx(1 / 45)
    assert threshold(1) == pytest.approx(1 / 0.9)  # a batch of one never pays


def test_single_never_batches() -> None:
    policy = BatchPolicy("single")
    assert not policy.uses_batches
    assert not any(policy.batch_next() for _ in range(10_000))
    assert policy.measured(found=0, missing=MAX_BATCH) is None
    assert not policy.resend_in_batches(1000, None)


def test_batch_keeps_batching_whatever_it_measures() -> None:
    """--strategy batch is the user's choice: measured, said in the report, never overruled."""
    policy = BatchPolicy("batch")
    assert policy.batch_next()
    assert policy.measured(found=0, missing=MAX_BATCH) is None
    assert policy.persistence == 0.0 and policy.batch_next() and not policy.fell_back


def test_auto_sends_one_batch_then_single_leads_until_it_is_verified() -> None:
    policy = BatchPolicy("auto")
    assert policy.batch_next()  # the probe
    policy.batch_sent()
    assert policy.state == "probing" and policy.probes == 1
    assert not any(policy.batch_next() for _ in range(100))  # singles meanwhile
    assert "while a first batch is verified" in policy.describe()


def test_auto_batches_at_once_when_its_whole_first_batch_is_listed() -> None:
    """Found is found: all of the probe in an early listing decides without waiting."""
    policy = BatchPolicy("auto")
    policy.batch_next()
    policy.batch_sent()
    policy.probe_found(MAX_BATCH - 1)  # not all of it yet: undecided
    assert policy.state == "probing"
    policy.probe_found(MAX_BATCH)
    assert policy.state == "batch" and policy.persistence == 1.0
    assert policy.notices() == []  # the happy path is logged, not shown as a notice


def test_auto_falls_back_once_and_says_so_once() -> None:
    policy = BatchPolicy("auto")
    policy.batch_next()
    policy.batch_sent()
    notice = policy.measured(found=0, missing=MAX_BATCH)
    assert notice is not None and "one lead a request" in notice and "0%" in notice
    assert policy.fell_back and policy.state == "single"
    assert policy.measured(found=0, missing=MAX_BATCH) is None  # no change, nothing said
    assert policy.notices() == [notice]
    assert policy.describe().startswith("single leads (batches stored 0%")


def test_auto_probes_again_after_2000_then_4000_single_rows() -> None:
    """A batch path that stopped storing may recover: one batch after 2,000 single rows, then
    after 4,000, 8,000..."""
    policy = BatchPolicy("auto")
    policy.batch_next()
    policy.batch_sent()
    policy.measured(found=0, missing=MAX_BATCH)
    decisions = [policy.batch_next() for _ in range(FIRST_PROBE_AFTER)]
    assert decisions[-1] and not any(decisions[:-1])
    policy.batch_sent()
    policy.measured(found=0, missing=MAX_BATCH)  # still nothing stored
    decisions = [policy.batch_next() for _ in range(2 * FIRST_PROBE_AFTER)]
    assert decisions.index(True) == 2 * FIRST_PROBE_AFTER - 1


def test_auto_goes_back_to_batches_when_the_path_recovers_and_says_so() -> None:
    policy = BatchPolicy("auto")
    policy.batch_next()
    policy.batch_sent()
    policy.measured(found=0, missing=MAX_BATCH)
    for _ in range(FIRST_PROBE_AFTER):
        policy.batch_next()
    policy.batch_sent()
    notice = policy.measured(found=MAX_BATCH, missing=0)
    assert notice is not None and "back to batches" in notice
    assert policy.state == "batch" and not policy.fell_back and len(policy.notices()) == 2


def test_a_measurement_waits_for_enough_rows() -> None:
    """A handful of batch rows says little: they are added up until MEASURE_AT_LEAST."""
    policy = BatchPolicy("auto")
    policy.batch_next()
    policy.batch_sent()
    assert policy.measured(found=0, missing=MEASURE_AT_LEAST - 1) is None
    assert policy.state == "probing" and policy.persistence is None
    assert policy.measured(found=0, missing=1) is not None


@pytest.mark.parametrize(("rows", "rounds_left", "persistence", "expected"), [
    (1, None, 1.0, False),  # one row: a batch request costs what a single one does
    (50, None, 1.0, True),
    (50, SINGLE_ROUNDS + 1, 1.0, True),
    (50, SINGLE_ROUNDS, 1.0, False),  # the last rounds: a row must not wait on batches
    (50, None, 0.01, False),  # below the threshold
    (3, None, 0.5, True),  # 3 rows x 0.5 > 1 stored a request
    (2, None, 0.5, False),  # 2 x 0.5 = 1: no better than alone
])
def test_resends_go_as_batches_only_where_that_stores_more_than_one_a_request(
        rows: int, rounds_left: int | None, persistence: float, expected: bool) -> None:
    policy = BatchPolicy("batch")
    policy.persistence = persistence
    assert policy.resend_in_batches(rows, rounds_left) is expected


@given(st.lists(st.tuples(st.integers(0, MAX_BATCH), st.integers(0, MAX_BATCH),
                          st.integers(0, 3000)), max_size=40))
def test_auto_always_knows_which_way_rows_go(
        steps: list[tuple[int, int, int]]) -> None:
    """Whatever verification reports, in any order: the state is one of the four, a fall back
    means single leads or a probe of them, and each notice is said once."""
    policy = BatchPolicy("auto")
    for found, missing, new_rows in steps:
        for _ in range(new_rows):
            if policy.batch_next():
                policy.batch_sent()
        policy.measured(found, missing)
        assert policy.state in ("single", "batch", "probe", "probing")
        if policy.fell_back:
            assert policy.state in ("single", "probe", "probing")
        if policy.state == "batch":
            assert policy.persistence is not None and policy.persistence > threshold(MAX_BATCH)
        assert len(policy.notices()) == len(set(policy.notices()))


def test_sizes_outside_one_to_fifty_are_refused() -> None:
    for size in (0, MAX_BATCH + 1):
        with pytest.raises(ValueError, match="1 to 50"):
            BatchPolicy("batch", size)
    with pytest.raises(ValueError, match="unknown strategy"):
        BatchPolicy("sometimes")
