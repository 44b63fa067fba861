"""The committed benchmark results still match the code that prints them (no timing here:
the benchmarks run with `python -m benchmarks`, never in the test suite)."""

from __future__ import annotations

import orjson
import pytest

from benchmarks.__main__ import BENCHMARKS
from benchmarks.chart import IMAGES
from benchmarks.common import RESULTS


@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_each_benchmark_has_results_its_table_can_print(name: str) -> None:
    figures = orjson.loads((RESULTS / f"{name}.json").read_bytes())
    assert figures["benchmark"] == name and figures["machine"]["cpus"]
    assert not figures["quick"], "the committed results are from a full run"
    rows = BENCHMARKS[name].rows(figures)
    assert rows and all(isinstance(m, str) and isinstance(v, str) for m, v in rows)


def test_the_chart_is_committed_where_the_docs_show_it() -> None:
    assert (IMAGES / "import-vs-loop.png").stat().st_size > 10_000
