"""Export encoding by hypothesis: NDJSON and CSV lines round-trip, a page's line ends are
exact, dropping records keeps the rest intact, gzip members read as one stream, and the id log
round-trips any id."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Any

import anyio
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from bulkio.formats.output import AppendFile, CsvEncoder, NdjsonEncoder, cell, gzip_member
from bulkio.ops.exports.written_ids import WrittenIds, _parse, log_lines

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
SCALAR = st.none() | st.booleans() | st.integers(-10**12, 10**12) | TEXT
VALUE = st.recursive(SCALAR, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6)
RECORD = st.fixed_dictionaries({"id": st.one_of(TEXT, st.integers(0, 10**9), st.none())},
                               optional={"email": TEXT, "nested": VALUE, "score": SCALAR})
PAGE = st.lists(RECORD, max_size=1200)  # spans several encoding groups of 500


@given(PAGE)
@settings(max_examples=60, deadline=None)
def test_ndjson_lines_round_trip_with_exact_ends(records: list[dict[str, Any]]) -> None:
    encoded = NdjsonEncoder().encode(records)
    lines = encoded.data.splitlines(keepends=True)
    assert [orjson.loads(line) for line in lines] == records
    assert list(encoded.ends) == [sum(len(x) for x in lines[:n + 1]) for n in range(len(lines))]
    assert encoded.ids == [None if r["id"] is None else str(r["id"]) for r in records]


@given(PAGE, st.data())
@settings(max_examples=60, deadline=None)
def test_dropping_records_keeps_the_others_whole(records: list[dict[str, Any]],
                                                 data: st.DataObject) -> None:
    encoded = NdjsonEncoder().encode(records)
    dropped = sorted(data.draw(st.sets(st.integers(0, max(len(records) - 1, 0)))
                               if records else st.just(set())))
    kept = [r for n, r in enumerate(records) if n not in set(dropped)]
    assert [orjson.loads(x) for x in encoded.without(dropped).splitlines()] == kept


@given(PAGE)
@settings(max_examples=40, deadline=None)
def test_projection_keeps_id_and_the_fields(records: list[dict[str, Any]]) -> None:
    encoded = NdjsonEncoder(keep=("email",)).encode(records)
    for line, record in zip(encoded.data.splitlines(), records, strict=True):
        assert orjson.loads(line) == {k: v for k, v in record.items() if k in ("id", "email")}


@given(PAGE)
@settings(max_examples=40, deadline=None)
def test_csv_rows_round_trip(records: list[dict[str, Any]]) -> None:
    encoder = CsvEncoder(["id", "email", "nested", "score"])
    text = (encoder.header() + encoder.encode(records).data).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["id", "email", "nested", "score"]
    assert len(rows) == len(records) + 1
    for row, record in zip(rows[1:], records, strict=True):
        assert row == [cell(record.get(c)) for c in ("id", "email", "nested", "score")]


def test_cells_encode_nested_values_as_json() -> None:
    assert [cell(None), cell("a,b"), cell(True), cell(3), cell({"k": [1]})] == \
        ["", "a,b", "true", "3", '{"k":[1]}']


@given(st.lists(st.binary(max_size=200), max_size=5))
def test_gzip_members_read_as_one_stream(chunks: list[bytes]) -> None:
    assert gzip.decompress(b"".join(gzip_member(c) for c in chunks) or gzip_member(b"")) == \
        b"".join(chunks)


@given(st.lists(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=12),
                max_size=30), st.integers(0, 500))
def test_the_id_log_round_trips_any_id(ids: list[str], stream_no: int) -> None:
    lines = log_lines(stream_no, ids).splitlines(keepends=True)
    assert [_parse(line) for line in lines] == [(stream_no, i) for i in ids]


def test_written_ids_index_reads_only_its_stream_within_the_checkpoint(tmp_path: Path) -> None:
    log = tmp_path / "x.ids"
    committed = log_lines(1, ["a", "b\tc"]) + log_lines(2, ["d"]) + log_lines(1, ['"e'])
    log.write_bytes(committed + log_lines(1, ["after-the-checkpoint"]))
    index = WrittenIds(tmp_path / "replay.db", log, len(committed), 1)
    try:
        assert index.written(["a", "b\tc", '"e', "d", "after-the-checkpoint"]) == {"a", "b\tc", '"e'}
        index.add(["f"])
        assert index.written(["f"]) == {"f"}
    finally:
        index.close()


def test_an_append_file_is_cut_back_to_its_checkpoint(tmp_path: Path) -> None:
    async def go() -> bytes:
        path = tmp_path / "data.part"
        first = AppendFile(path)
        await first.open()
        size = await first.append(b"kept\n")
        await first.append(b"written after the checkpoint\n")
        await first.close()
        again = AppendFile(path, size=size)
        await again.open()
        await again.append(b"next\n")
        await again.close()
        return path.read_bytes()

    assert anyio.run(go) == b"kept\nnext\n"
