"""The NDJSON reader: one object per line; anything else rejected with the reason."""

from __future__ import annotations

import io

import orjson
from hypothesis import given
from hypothesis import strategies as st

from bulkio.sources.ndjson_records import NdjsonRecords

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9), st.text(max_size=20))
OBJECTS = st.dictionaries(st.text(min_size=1, max_size=10), SCALARS, max_size=5)


def read_all(data: bytes) -> list:  # type: ignore[type-arg]
    reader = NdjsonRecords(io.BytesIO(data))
    records = []
    while batch := reader.read_batch(3):
        records += batch
    assert reader.offset == len(data)
    return records


@given(st.lists(OBJECTS, max_size=15), st.sampled_from([b"\n", b"\r\n"]))
def test_round_trip(objects: list[dict[str, object]], ending: bytes) -> None:
    """Each object comes back, numbered from 1."""
    data = b"".join(orjson.dumps(o) + ending for o in objects)
    records = read_all(data)
    assert [r.values for r in records] == objects
    assert [r.rowno for r in records] == list(range(1, len(objects) + 1))


def test_non_objects_and_broken_lines_are_rejected_with_the_reason() -> None:
    """A list, a number, broken JSON: error records; blank lines skipped; the rest goes on."""
    data = b'\xef\xbb\xbf{"a": 1}\n[1, 2]\n\n42\n{"b": \n{"c": 3}\n'
    records = read_all(data)
    assert [r.values for r in records] == [{"a": 1}, None, None, None, {"c": 3}]
    assert "JSON list, not an object" in str(records[1].error)
    assert "not valid JSON" in str(records[3].error)
    assert records[3].raw == '{"b":'


def test_a_truncated_gzip_rejects_the_cut_line_and_keeps_the_rest() -> None:
    """Lines before the cut are read; the cut one is rejected as the end of the data."""
    import gzip

    from bulkio.sources.gzipped import GzipStream

    whole = gzip.compress(b"".join(b'{"email": "r%d@x.org"}\n' % i for i in range(20_000)))
    reader = NdjsonRecords(GzipStream(io.BytesIO(whole[: len(whole) // 2])))  # type: ignore[arg-type]
    records = []
    while batch := reader.read_batch(1000):
        records += batch
    *good, cut = records
    assert [r.values for r in good] == [{"email": f"r{i}@x.org"} for i in range(len(good))]
    assert cut.values is None and "data ends in this line" in str(cut.error)


def test_utf16_ndjson_as_powershell_writes_it() -> None:
    """UTF-16LE with a BOM (PowerShell's Out-File): transcoded, every object read."""
    data = '{"email": "zoë@x.org"}\r\n{"email": "al@x.org"}\r\n'.encode("utf-16")
    stream = io.BytesIO(data)
    reader = NdjsonRecords(stream, sample=stream.read(65536))
    assert [r.values for r in reader.read_batch(10)] == [{"email": "zoë@x.org"}, {"email": "al@x.org"}]
    assert "UTF-16" in reader.describe() and not reader.offsets_in_file
