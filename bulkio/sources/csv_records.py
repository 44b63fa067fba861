"""CSV records, streamed: the header, delimiter detection, rows of the wrong width.

What the reader decides for the user is said, never done quietly: a short row is padded (as
spreadsheets, pandas and HubSpot's importer read it) and noted; a repeated header name becomes
"Email 2" and is reported; a row with a repaired quote, or read in the fallback encoding, is
noted; a row that cannot be read (an unterminated quote, too many cells, a line the given
encoding cannot decode, the end of a truncated file) is a record with an error, and reading
goes on with the next line.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import BinaryIO, Literal

from ..errors import SourceError
from ..formats.formulas import unguarded
from ..formats.rejects import REJECTS_COLUMNS
from .csv_fields import Assembled, RecordSplitter
from .records import Record
from .text import LINE_LIMIT, SAMPLE, Encoding, Line, choose_encoding, read_lines

DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def detect_delimiter(sample: str) -> str:
    """The candidate that splits the first lines into the most consistent, widest rows.

    The lines are split as the reader splits them (a lone CR ends a line too), and records
    assembled by the same splitter, so quoted line breaks do not count as rows.
    """
    lines = _LINES.findall(sample)[:50]
    if len(lines) > 1:
        lines = lines[:-1]  # the last sampled line may be cut short
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        splitter = RecordSplitter(iter([Line(text, len(text)) for text in lines]), delimiter)
        rows = [a.cells for a in iter(splitter.next, None) if a.cells]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistency = sum(len(r) == width for r in rows) / len(rows)
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def header_labels(names: list[str]) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """Unique labels for the header's names, and the names that repeat with their positions.

    The second "Email" is "Email 2" (as a spreadsheet's "Email 1"/"Email 2"), unless that is
    another column's name: then "Email (column 4)".
    """
    counts = Counter(n.casefold() for n in names)
    taken = {n.casefold() for n in names}
    seen: Counter[str] = Counter()
    labels = []
    for position, name in enumerate(names, start=1):
        key = name.casefold()
        seen[key] += 1
        label = name
        if seen[key] > 1:
            label = f"{name} {seen[key]}"
            if label.casefold() in taken:
                label = f"{name} (column {position})"
        taken.add(label.casefold())
        labels.append(label)
    repeated = [(name, [i + 1 for i, n in enumerate(names) if n.casefold() == name.casefold()])
                for name in dict.fromkeys(n for n in names if counts[n.casefold()] > 1)]
    # One entry per name as first written (case variants of it are the same name).
    unique: dict[str, tuple[str, list[int]]] = {}
    for name, positions in repeated:
        unique.setdefault(name.casefold(), (name, positions))
    return labels, list(unique.values())


MAX_COLUMNS = 10_000  # a header wider than this is not a lead file (and would cost minutes)


class CsvRecords:
    format = "csv"
    is_async: Literal[False] = False
    unmapped_to_notes = False
    labels: dict[str, str] = {}  # noqa: RUF012 - read only: a column is its own label

    def __init__(self, stream: BinaryIO, *, sample: bytes | None = None,
                 encoding: Encoding | str | None = None, delimiter: str | None = None) -> None:
        """`sample`: the stream's first bytes, already read (else read here); `encoding`: as
        chosen, or a name given by the user (else detected)."""
        if sample is None:
            sample = stream.read(SAMPLE)
        if not isinstance(encoding, Encoding):
            encoding = choose_encoding(sample, encoding)
        self.encoding = encoding
        self._stream = stream
        self.offsets_in_file = not encoding.text_mode
        self._seekable = stream.seekable() and self.offsets_in_file
        self.delimiter = delimiter or detect_delimiter(
            sample.decode(encoding.codec, errors="replace").removeprefix("\ufeff"))
        self._split = RecordSplitter(self._lines(prefix=sample), self.delimiter)
        self._offset = self.line = 0  # where the records returned so far end: byte, line
        self.own_rejects = False
        self.names, self.columns, self.repeated_names = self._read_header()
        self._split.width = len(self.columns)
        self._rowno = 0
        self.empty_rows = 0  # rows with no value at all (only delimiters or spaces): skipped

    def _lines(self, *, prefix: bytes = b"", at_start: bool = True) -> Iterator[Line]:
        return read_lines(self._stream, self.encoding, prefix=prefix, at_start=at_start)

    def _read_header(self) -> tuple[list[str], list[str], list[tuple[str, list[int]]]]:
        while (first := self._split.next()) is not None:
            if first.blank:
                continue
            self._offset, self.line = first.end, first.last
            problem = dict(first.problems)
            if "overlong" in problem:
                raise SourceError(f"the first line is {problem['overlong']} long with no line "
                                  "break: this is not a CSV file (or its line endings are not "
                                  r"\n, \r\n or \r)")
            if first.unterminated:
                raise SourceError(f"the header (line {first.line}) has a quote that never closes "
                                  f"({first.unterminated[1]}): fix the header row")
            if "damaged" in problem:
                raise SourceError(f"the file ends inside its header: {problem['damaged']}")
            if len(first.cells) > MAX_COLUMNS:
                raise SourceError(f"the header has {len(first.cells):,} columns; bulkio reads at "
                                  f"most {MAX_COLUMNS:,} (a lead has a few dozen fields): is "
                                  "this the file you meant? (read as separated by "
                                  f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))})")
            names = [n.strip() or f"column {i + 1}" for i, n in enumerate(first.cells)]
            # A rejects file bulkio wrote: the ' it put before would-be formulas comes off.
            self.own_rejects = names[:2] == list(REJECTS_COLUMNS)
            if self.own_rejects:
                names = [unguarded(n) for n in names]
            labels, repeated = header_labels(names)
            return names, labels, repeated
        raise SourceError("the file has no header row (it is empty)")

    @property
    def offset(self) -> int:
        return self._offset

    def read_batch(self, size: int) -> list[Record]:
        batch: list[Record] = []
        while len(batch) < size:
            assembled = self._split.next()
            if assembled is None:
                break
            self._offset, self.line = assembled.end, assembled.last
            if assembled.blank:
                nul = any(problem == "nul" for problem, _ in assembled.problems)
                if assembled.cells or nul:  # an empty line is not a row; `,,,` is one, said
                    self.empty_rows += 1
                continue
            self._rowno += 1
            if self.own_rejects:
                assembled.cells = [unguarded(c) for c in assembled.cells]
            batch.append(self._record(assembled))
        return batch

    def _record(self, a: Assembled) -> Record:
        cells = a.cells
        if len(cells) == self._split.width and not (a.problems or a.stray or a.unterminated):
            return Record(self._rowno, dict(zip(self.columns, cells, strict=True)), cells, line=a.line)
        return self._interpreted(a)

    def _interpreted(self, a: Assembled) -> Record:
        """A record that is not simply the header's width of cells, or has a problem."""
        error = self._error(a)
        if error:
            damage = [("damaged", d) for problem, d in a.problems if problem == "damaged"]
            return Record(self._rowno, None, a.cells, error, line=a.line, notes=tuple(damage))
        width = len(self.columns)
        cells = a.cells
        notes: list[tuple[str, str]] = []
        if len(cells) > width:
            surplus = cells[width:]
            if any(c.strip() for c in surplus):
                shown = ", ".join(repr(c) for c in surplus[:3]) + (", ..." if len(surplus) > 3 else "")
                hint = (f" (a quote in {self._field(a.stray[0])!r} was neither doubled nor closing, "
                        "which may have split a cell)") if a.stray else ""
                return Record(self._rowno, None, cells, f"the row has {len(cells)} cells, the "
                              f"header has {width}: the extra cells hold {shown}{hint}", line=a.line)
            cells = cells[:width]  # trailing delimiters: empty extra cells are harmless
        elif len(cells) < width:
            notes.append(("padded", ""))
            cells = cells + [""] * (width - len(cells))
        notes += [("quotes", self._field(f)) for f in a.stray]
        if any(problem == "fallback" for problem, _ in a.problems):
            notes.append(("encoding", "Windows-1252"))
        if any(problem == "nul" for problem, _ in a.problems):
            notes.append(("nul", ""))
        return Record(self._rowno, dict(zip(self.columns, cells, strict=True)), a.cells,
                      line=a.line, notes=tuple(notes))

    def _error(self, a: Assembled) -> str | None:
        problems = dict(a.problems)
        if "overlong" in problems:
            return (f"line {a.line} is {problems['overlong']} long, over the limit of "
                    f"{LINE_LIMIT >> 20} MB for one line")
        if "damaged" in problems:
            return (f"the file's data ends in this row ({problems['damaged']}): the row may be "
                    "incomplete and any rows after it are missing; import a complete copy of the "
                    "file (rows already imported are then skipped as duplicates)")
        if a.unterminated:
            index, why = a.unterminated
            return (f"unterminated quote: the quoted field {self._field(index)!r} that starts on "
                    f"line {a.line} never closes ({why}); the line is rejected alone and reading "
                    "resumes on the next line")
        if "undecodable" in problems:
            return (f"line {a.line} is {problems['undecodable']}: fix the line, or give the "
                    "file's encoding with --encoding")
        return None

    def _field(self, index: int) -> str:
        return self.columns[index] if index < len(self.columns) else f"field {index + 1}"

    def resume_at(self, offset: int, rowno: int, line: int = 0) -> None:
        """Continue after record `rowno`, which ended at byte `offset` and on line `line`: seek
        when the source can, else read past the records already done."""
        if self._seekable and line:
            self._stream.seek(offset)
            self._split = RecordSplitter(self._lines(at_start=False), self.delimiter,
                                         line=line + 1, offset=offset)
            self._split.width = len(self.columns)
            self._offset, self._rowno, self.line = offset, rowno, line
            return
        while self._rowno < rowno:
            if not self.read_batch(min(1000, rowno - self._rowno)):
                return

    def describe(self) -> str:
        """How the file is read, for people: "CSV, UTF-8, separated by commas"."""
        own = (", a rejects file of bulkio's (the ' it put before cells starting with = + - @ "
               "is taken off)") if self.own_rejects else ""
        return (f"CSV, {self.encoding.label}, separated by "
                f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}{own}")

    def close(self) -> None:
        self._stream.close()
