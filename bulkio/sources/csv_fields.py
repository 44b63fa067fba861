"""CSV records from text lines, with quotes as people really write them.

Python's csv module, on a quote that never closes, reads on to the end of the file inside one
field: every row after it is swallowed without a word. It also rewrites a stray inner quote
(`"He said "hi" twice"` becomes `He said hi" twice"`). This splitter reads RFC 4180 exactly
where the file follows it, and otherwise:

- a quote inside a quoted field that is neither doubled nor closing (followed by the
  delimiter or the end of the line) is kept as typed, and the field is reported as repaired;
- a quoted field that runs past a line break and then over a line that looks like a complete
  record of the header's width (or to the end of the file, or over `MAX_RECORD_LINES`) is an
  unterminated quote: its first line alone is the record (rejected by the reader above, with
  its line number), and reading resumes on the next line;
- spaces between a closing quote and the delimiter are allowed.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from .text import LINE_LIMIT, Line

MAX_RECORD_LINES = 10_000  # a quoted field over more lines than this is taken as unterminated
QUOTE = '"'


class Fields:
    """The cells of one record, read a physical line at a time."""

    __slots__ = ("cells", "delimiter", "irregular", "parts", "quoted", "stray")

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self.cells: list[str] = []
        self.parts: list[str] = []  # the quoted field being read
        self.quoted = False  # inside a quoted field at the end of the last line fed
        self.stray: list[int] = []  # fields (0-based) with a stray quote kept as typed
        self.irregular = False  # a quote inside an unquoted field (kept as typed, as csv does)

    def feed(self, line: str) -> bool:
        """Read one line (with its ending); True when the record is complete."""
        body = line.rstrip("\r\n")
        n, i, d = len(body), 0, self.delimiter
        while True:
            if self.quoted:
                i, closed = self._quoted(body, i, n)
                if not closed:
                    self.parts.append(line[n:])  # the line break belongs to the field
                    return False
                self.cells.append("".join(self.parts))
                self.parts, self.quoted = [], False
                if i >= n:
                    return True
                i += 1  # past the delimiter
            elif i < n and body[i] == QUOTE:
                self.quoted, i = True, i + 1
            else:
                j = body.find(d, i)
                cell = body[i:] if j < 0 else body[i:j]
                if QUOTE in cell:
                    self.irregular = True
                self.cells.append(cell)
                if j < 0:
                    return True
                i = j + 1

    def _quoted(self, body: str, i: int, n: int) -> tuple[int, bool]:
        """Read a quoted field from `i`: (where it closed, True), or (n, False) if still open."""
        parts, d = self.parts, self.delimiter
        while True:
            j = body.find(QUOTE, i)
            if j < 0:
                parts.append(body[i:])
                return n, False
            parts.append(body[i:j])
            k = j + 1
            if k < n and body[k] == QUOTE:  # a doubled quote is one quote
                parts.append(QUOTE)
                i = k + 1
                continue
            m = k
            while m < n and body[m] == " ":
                m += 1
            if m >= n or body[m] == d:
                return m, True
            parts.append(QUOTE)  # neither doubled nor closing: kept as typed
            if not self.stray or self.stray[-1] != len(self.cells):
                self.stray.append(len(self.cells))
            i = k

    def open_cells(self) -> list[str]:
        """The cells so far, the open field's text included (its line break dropped)."""
        return [*self.cells, "".join(self.parts).rstrip("\r\n")]


class _StrictLine:
    """The csv module in strict mode, one line at a time: the fast path for a line whose
    quotes are regular (it fails on an open, stray or spaced quote; `Fields` then reads it)."""

    def __init__(self, delimiter: str) -> None:
        self._line: str | None = None
        self._reader = csv.reader(self, delimiter=delimiter, strict=True)

    def __iter__(self) -> _StrictLine:
        return self

    def __next__(self) -> str:
        line, self._line = self._line, None
        if line is None:
            raise StopIteration  # the end of this line ends the record: an open quote fails
        return line

    def cells(self, body: str) -> list[str] | None:
        self._line = body
        try:
            return next(self._reader)
        except (csv.Error, StopIteration):
            self._line = None
            return None


@dataclass(slots=True)
class Assembled:
    """One record's cells and where it came from, or why its first line is all there is."""

    cells: list[str]
    line: int  # the physical line it starts on (1-based, the header's line included)
    last: int  # the physical line it ends on
    end: int  # byte offset just past its last line
    stray: list[int] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # lines' (problem, detail)
    unterminated: tuple[int, str] | None = None  # (the field whose quote never closes, why)

    @property
    def blank(self) -> bool:
        """No value at all: an empty line (no cells), or only delimiters and spaces."""
        harmless = all(problem == "nul" for problem, _ in self.problems)  # NULs are removed
        return harmless and not self.unterminated and not "".join(self.cells).strip()


class RecordSplitter:
    """Assembles records from lines; knows the header's width once it is set (`width`)."""

    def __init__(self, lines: Iterator[Line], delimiter: str, *, line: int = 1,
                 offset: int = 0) -> None:
        self._lines = lines
        self._back: deque[tuple[Line, int, int]] = deque()  # lines to read again
        self.delimiter = delimiter
        self.width = 0  # 0 while the header is read: no line can look like a record yet
        self._next_line = line
        self._read_to = offset
        self._strict = _StrictLine(delimiter)

    def _take(self) -> tuple[Line, int, int] | None:
        """The next line, its number, and the byte offset just past it."""
        if self._back:
            return self._back.popleft()
        line = next(self._lines, None)
        if line is None:
            return None
        self._read_to += line.size
        number, self._next_line = self._next_line, self._next_line + 1
        return line, number, self._read_to

    def next(self) -> Assembled | None:
        """The next record, or None at the end of the file."""
        first = self._take()
        if first is None:
            return None
        line, number, end = first
        if line.problem is None:
            body = line.text.rstrip("\r\n")
            if QUOTE not in body:  # most lines: nothing to interpret
                return Assembled(body.split(self.delimiter) if body else [], number, number, end)
            cells = self._strict.cells(body)
            if cells is not None:  # quotes as RFC 4180 has them, on one line
                return Assembled(cells, number, number, end)
        if line.problem == "overlong":
            return Assembled([line.text], number, number, end, problems=[("overlong", line.detail)])
        fields = Fields(self.delimiter)
        taken = [first]
        size = len(line.text)
        while not fields.feed(line.text):
            if line.problem == "damaged":
                break  # cut by the end of the data: rejected with the damage below
            following = self._take()
            why = self._unterminated(following, len(taken), size)
            if why:
                self._back.extendleft(reversed([*taken[1:], *([following] if following else [])]))
                return self._first_line_alone(first, why)
            assert following is not None
            taken.append(following)
            line = following[0]
            size += len(line.text)
        problems = [(ln.problem, ln.detail) for ln, _, _ in taken if ln.problem is not None]
        cells = fields.cells if not fields.quoted else fields.open_cells()
        return Assembled(cells, number, taken[-1][1], taken[-1][2], fields.stray, problems)

    def _unterminated(self, following: tuple[Line, int, int] | None, lines: int,
                      size: int) -> str | None:
        """Why an open quoted field is taken as unterminated before `following`, if it is."""
        if following is None:
            return "the file ends inside it"
        line, number, _ = following
        if line.problem == "overlong":
            return f"line {number} is over the line limit"
        if self.width and self.looks_like_record(line.text):
            return f"line {number} looks like a record of its own"
        if lines >= MAX_RECORD_LINES or size > LINE_LIMIT:
            return f"it would run over more than {MAX_RECORD_LINES:,} lines or {LINE_LIMIT >> 20} MB"
        return None

    def _first_line_alone(self, first: tuple[Line, int, int], why: str) -> Assembled:
        line, number, end = first
        alone = Fields(self.delimiter)
        alone.feed(line.text.rstrip("\r\n"))
        cells = alone.open_cells() if alone.quoted else alone.cells
        problems = [(line.problem, line.detail)] if line.problem else []
        return Assembled(cells, number, number, end, alone.stray, problems,
                         unterminated=(len(alone.cells), why))

    def looks_like_record(self, text: str) -> bool:
        """A line that is, on its own, a clean record of the header's width."""
        body = text.rstrip("\r\n")
        if QUOTE not in body:
            cells = body.split(self.delimiter)
        else:
            fields = Fields(self.delimiter)
            if not fields.feed(body) or fields.stray or fields.irregular:
                return False
            cells = fields.cells
        while len(cells) > self.width and not cells[-1].strip():
            cells.pop()
        return len(cells) == self.width and any(c.strip() for c in cells)
