"""Benchmark 8, csv-reading: what reading every row safely costs, against Python's csv module.

bulkio's CSV reader (sources/) assembles records itself so that an unterminated quote never
swallows the rest of a file, stray quotes are kept as typed, and every row knows its line and
byte offset. The alternative is `csv.DictReader` over the decoded file, what the guides'
scripts (and bulkio before issue 10) use. Both read the same files, in alternating rounds of
the same run, best of each:

- typical: 500,000 rows of 10 columns, minimal quoting, 2% with a quoted line break in a note;
- all-quoted: the same rows with every cell quoted (what many exporters write).

The ratio is bulkio's rows a second over DictReader's; the per-row cost beside it is what
reading adds to an import, whose engine takes ~430 µs a row (engine-ceiling).
"""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

NAME = "csv-reading"
ROUNDS = 3
HEADER = ["First Name", "Last Name", "Email", "Company", "Title", "Phone", "LinkedIn", "Website",
          "Notes", "Stage"]


def write(path: Path, rows: int, quoting: Literal[0, 1]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n", quoting=quoting)
        writer.writerow(HEADER)
        for i in range(rows):
            notes = ('Met at "SaaStr", call back\r\nafter Q3' if i % 50 == 0
                     else "Imported from the old CRM" if i % 10 == 0 else "")
            writer.writerow([f"First{i}", f"Last{i}", f"p{i}@example.com", "Acme Corp", "CEO",
                             "+1 (555) 123-4567", f"https://linkedin.com/in/p{i}",
                             "https://acme.com", notes, "lead"])
    return path


def with_bulkio(path: Path) -> int:
    from bulkio.sources.files import open_source

    source = open_source(str(path))
    rows = 0
    while batch := source.reader.read_batch(256):
        rows += len(batch)
    source.close()
    return rows


def with_dictreader(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def rate(read: Any, path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    rows = read(path)
    return rows / (time.perf_counter() - start), rows


def run(quick: bool) -> dict[str, Any]:
    count = 50_000 if quick else 500_000
    figures: dict[str, Any] = {"quick": quick, "rows": count}
    with tempfile.TemporaryDirectory(prefix="bulkio-bench-csv-") as folder:
        files = {"typical": write(Path(folder) / "typical.csv", count, csv.QUOTE_MINIMAL),
                 "all_quoted": write(Path(folder) / "quoted.csv", count, csv.QUOTE_ALL)}
        for label, path in files.items():
            best = {"bulkio": 0.0, "dictreader": 0.0}
            for _ in range(ROUNDS):
                for who, read in (("bulkio", with_bulkio), ("dictreader", with_dictreader)):
                    per_s, rows = rate(read, path)
                    if rows != count:
                        raise RuntimeError(f"{who} read {rows:,} rows of {count:,} from {label}")
                    best[who] = max(best[who], per_s)
            figures[f"{label}_bulkio_rows_per_s"] = best["bulkio"]
            figures[f"{label}_dictreader_rows_per_s"] = best["dictreader"]
            figures[f"{label}_ratio"] = best["bulkio"] / best["dictreader"]
            figures[f"{label}_bulkio_us_per_row"] = 1e6 / best["bulkio"]
    return figures


def rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for label, title in (("typical", "typical file"), ("all_quoted", "every cell quoted")):
        out += [
            (f"{title}: bulkio rows/s", f"{f[f'{label}_bulkio_rows_per_s']:,.0f} "
                                        f"({f[f'{label}_bulkio_us_per_row']:.1f} µs a row)"),
            (f"{title}: csv.DictReader rows/s", f"{f[f'{label}_dictreader_rows_per_s']:,.0f}"),
            (f"{title}: ratio bulkio / DictReader", f"{f[f'{label}_ratio']:.2f}"),
        ]
    return [(f"{f['rows']:,} rows of 10 columns", ""), *out]
