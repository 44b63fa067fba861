"""The folder of broken files (tests/data/broken/) through `bulkio import`, as a user runs it.

For every file: each row is stored or in the rejects file with a reason, nothing is lost
without a word (every email in the input is found in the sandbox's own data or in the rejects
file), or the file is refused in one line with nothing sent; never a traceback, never "please
report it"; the dry run of the same file works too.
"""

from __future__ import annotations

import codecs
import csv
import re
import zlib
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

from bulkio.cli.main import main
from bulkio.sandbox import Sandbox, SandboxConfig
from tests.processes import sandbox_env

BROKEN = Path(__file__).parents[1] / "data" / "broken"
EMAIL = re.compile(r"[\w.+\-\[\]/]+@[\w\-]+(?:\.[\w\-]+)+")
LABELLED = re.compile(r"^[^:\n]+: (.*)$", re.MULTILINE)
DRY_RUN_SAYS = {"latin1-semicolons-cr.csv": "Windows-1252 (the file is not UTF-8), separated by semicolons",
                "excel-unicode-text.txt": "UTF-16-LE (with a BOM), separated by tabs",
                "repeated-header-names.csv": "read as 'Email' and 'Email 2'",
                "short-and-long-rows.csv": "the missing cells were read as empty",
                "stray-inner-quotes.csv": "neither doubled nor closing: kept as typed",
                "unterminated-quote-at-end.csv": "row 1: unterminated quote",
                "markup-in-headers.csv": ("Tags [/]", "Phone [mobile]", "\\x1b[31mRed")}
REFUSED = {"workbook-named-csv.csv": "is an Excel workbook (.xlsx)",
           "random-bytes.csv": "is binary data, not text"}


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(quota_per_minute=None)


@pytest.fixture(autouse=True)
def credentials(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "400")  # the summary's notes on one line each
    for name, value in sandbox_env(sandbox).items():
        monkeypatch.setenv(name, value)


def input_text(path: Path) -> str:
    """The file's text as a person would read it, independently of bulkio's reader."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = zlib.decompressobj(31).decompress(data)  # what survives the truncation
    if data.startswith(codecs.BOM_UTF16_LE):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def stored(sb: Sandbox, slug: str) -> list[dict[str, Any]]:
    return [orjson.loads(data) for (data,) in sb.state.store.db.execute(
        "SELECT data FROM leads WHERE client_id = ?", (slug,))]


async def bulkio(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = await anyio.to_thread.run_sync(main, [*argv, "--rate", "unlimited", "--settle", "0"])
    out, err = capsys.readouterr()
    output = out + err
    assert "Traceback" not in output and "please report it" not in output
    assert "\x1b" not in output  # nothing from a file reaches the terminal as a control sequence
    return code, output


def slug_of(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.iterdir() if p.name != "make_broken.py"))
async def test_every_row_is_stored_or_rejected_with_a_reason(
        name: str, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """The done-when of issue 10, file by file, checked on the sandbox's own data."""
    path = BROKEN / name
    code, output = await bulkio(capsys, "import", str(path), "--client", "x", "--dry-run")
    if name in REFUSED:
        assert code == 2 and REFUSED[name] in output and len(output.strip().splitlines()) == 1
        code, output = await bulkio(capsys, "import", str(path), "--create-client", name)
        assert code == 2 and REFUSED[name] in output
        assert sum(sandbox.state.counts.values()) == 0 and not stored(sandbox, slug_of(name))
        return
    assert code == 0 and "Read as " in output and "Dry run: nothing was sent" in output
    said = DRY_RUN_SAYS.get(name, ())  # the choices bulkio makes, before any is made
    assert all(text in output for text in ([said] if isinstance(said, str) else said))
    code, output = await bulkio(capsys, "import", str(path), "--create-client", name,
                                "--unmapped", "notes", "--rejects", "rejects.csv")
    report = orjson.loads(next(Path(".bulkio/jobs").glob("*/report.json")).read_bytes())
    assert report["rows_read"] == sum(report[k] for k in (
        "created", "updated", "skipped_duplicate", "rejected", "failed"))
    assert code == (1 if report["rejected"] or report["failed"] else 0)
    leads = stored(sandbox, report_slug(sandbox, name))
    assert len(leads) == report["created"]
    # An email is accounted for as a lead's email, or as a labelled line of its notes (a
    # column kept by --unmapped notes), not as text swallowed into another lead's field.
    on_server = " ".join(
        [lead["email"] for lead in leads] +
        [m.group(1) for lead in leads for m in LABELLED.finditer(lead.get("notes", ""))]).lower()
    rejects = Path("rejects.csv").read_text("utf-8") if Path("rejects.csv").exists() else ""
    if rejects:
        rows = list(csv.DictReader(rejects.splitlines()))
        assert len(rows) == report["rejected"] + report["failed"]
        assert all(row["_error"] for row in rows)
    lost = [e for e in EMAIL.findall(input_text(path))
            if e.lower() not in on_server and e.lower() not in rejects.lower()]
    assert not lost, f"emails neither stored nor rejected: {lost[:5]}"
    if name in CHECKS:
        CHECKS[name](leads, report, rejects, output)


def report_slug(sb: Sandbox, name: str) -> str:
    """The slug the sandbox gave the client created for `name`."""
    rows = sb.state.store.db.execute("SELECT data FROM clients").fetchall()
    for (data,) in rows:
        client = orjson.loads(data)
        if client.get("clientName") == name:
            return str(client["client_id"])
    raise AssertionError(f"no client named {name}")


def by_email(leads: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {lead["email"]: lead for lead in leads}


def check_unterminated_end(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                           output: str) -> None:
    assert sorted(by_email(leads)) == ["bob@example.com", "cara@example.com"]
    assert report["rejected"] == 1 and "unterminated quote" in rejects and "line 2" in rejects


def check_unterminated_middle(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                              output: str) -> None:
    assert report["rows_read"] == 2000 and report["created"] == 1999 and report["rejected"] == 1
    assert by_email(leads)["person1003@example.com"]["notes"] == 'said "call me", then left'


def check_stray_quotes(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                       output: str) -> None:
    notes = {lead["email"]: lead["notes"].split("\n")[0] for lead in leads}
    assert notes["quote0@example.com"] == 'He said "clean the file first" yesterday'
    assert notes["quote1@example.com"] == 'a "b" c' and notes["quote2@example.com"] == "5'11\" tall"
    assert report["repaired_rows"] == 2 and "kept as typed" in output
    log = next(Path(".bulkio/jobs").glob("*/log.txt")).read_text()
    assert "row 1 (line 2): a quote in 'notes'" in log and "row 2 (line 3)" in log


def check_short_and_long(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                         output: str) -> None:
    assert sorted(by_email(leads)) == ["ann@x.org", "ivan@x.org", "trailing@x.org"]
    assert report["rejected"] == 1 and "the row has 9 cells, the header has 8" in rejects
    assert "fewer cells than the header" in output and "1 row with no value at all" in output


def check_repeated_headers(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                           output: str) -> None:
    leads_by = by_email(leads)
    assert sorted(leads_by) == ["al@x.org", "bo.second@x.org", "cy@x.org"]
    assert leads_by["al@x.org"]["notes"] == "Email 2: al.home@x.org"
    assert "the header names 'Email' twice (columns 2 and 3)" in output


def check_latin1(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                 output: str) -> None:
    jose = by_email(leads)["jose@x.org"]
    assert (jose["firstName"], jose["lastName"], jose["companyName"]) == ("José", "Álvarez", "Café")
    assert report["created"] == 3 and "Windows-1252" in output and "semicolons" in output


def check_utf16(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                output: str) -> None:
    ming = by_email(leads)["ming.u16@x.org"]
    assert (ming["firstName"], ming["lastName"], ming["companyName"]) == ("明", "李", "北京公司")
    assert report["created"] == 2 and "UTF-16-LE" in output and "tabs" in output


def check_truncated(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                    output: str) -> None:
    assert report["rejected"] == 1 and report["created"] == report["rows_read"] - 1 > 1000
    assert "truncated" in rejects and "to continue this import" not in output
    assert f"the file ends early, in row {report['rows_read']}" in output


def check_markup(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                 output: str) -> None:
    assert sorted(by_email(leads)) == ["markup1@x.org"]
    assert "Tags [/]: a [b]" in leads[0]["notes"] and "Phone [mobile]: 555" in leads[0]["notes"]
    assert "[/bold]@x.org" in rejects  # the rejected row's cells, as written


def check_foreign(leads: list[dict[str, Any]], report: dict[str, Any], rejects: str,
                  output: str) -> None:
    (lead,) = leads
    assert {k: lead.get(k) for k in ("firstName", "lastName", "companyName", "phoneNumber",
                                     "title")} == {
        "firstName": "Ana", "lastName": "Ruiz", "companyName": "Acme SA",
        "phoneNumber": "+34 600 000 000", "title": "Directora"}
    assert "notes" not in lead  # every column found its field


CHECKS = {
    "unterminated-quote-at-end.csv": check_unterminated_end,
    "unterminated-quote-in-the-middle.csv": check_unterminated_middle,
    "stray-inner-quotes.csv": check_stray_quotes,
    "short-and-long-rows.csv": check_short_and_long,
    "repeated-header-names.csv": check_repeated_headers,
    "latin1-semicolons-cr.csv": check_latin1,
    "excel-unicode-text.txt": check_utf16,
    "truncated.csv.gz": check_truncated,
    "markup-in-headers.csv": check_markup,
    **{f"headers-{lang}.csv": check_foreign for lang in ("fr", "de", "es", "pt", "it")},
}


def test_every_file_of_the_folder_is_checked() -> None:
    """A file added to the folder gets a check (or is refused)."""
    names = {p.name for p in BROKEN.iterdir() if p.name != "make_broken.py"}
    assert names == set(CHECKS) | set(REFUSED)


async def test_markup_in_headers_is_shown_as_written_in_the_summary(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """The summary after the leads are stored lists the columns not imported, `[/bold]` and
    an ESC byte included, as text (it crashed there, leads already stored)."""
    code, output = await bulkio(capsys, "import", str(BROKEN / "markup-in-headers.csv"),
                                "--create-client", "markup")
    assert code == 1  # the `[/bold]@x.org` row is rejected: not an email
    assert "Columns not imported: Tags [/], [/bold], Phone [mobile], \\x1b[31mRed\\x1b[0m" in output


async def test_a_row_separated_by_another_delimiter_says_so(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A semicolon row pasted into a comma file is refused with a reason that names the
    semicolons (its whole line reads as one invalid email otherwise); the other rows go."""
    path = tmp_path / "mixed.csv"
    path.write_text("email,first_name,last_name\na@example.com,Ann,Lee\nbob@example.com;Bob;Ng\n")
    code, output = await bulkio(capsys, "import", str(path), "--client", "x", "--dry-run")
    assert code == 0 and "row 2: invalid email 'bob@example.com;Bob;Ng' (the row looks " \
        "separated by ';', in 3 cells, where the file uses ',')" in output
    code, output = await bulkio(capsys, "import", str(path), "--create-client", "mixed",
                                "--rejects", "mixed.rejects.csv")
    assert code == 1 and [lead["email"] for lead in stored(sandbox, "mixed")] == ["a@example.com"]
    rejects = (tmp_path / "mixed.rejects.csv").read_text()
    assert "the row looks separated by ';'" in rejects


FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"]


async def test_formulas_in_rejects_are_inert_and_come_back_as_typed(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Rejected rows whose cells a spreadsheet would run: the rejects file holds them with a
    ' in front (--csv-raw: as they are); corrected and imported again, the leads hold the
    values as they were typed, and the summary says the file was read as bulkio's own."""
    path = tmp_path / "formulas.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["email", "first_name", "last_name", "company"])
        for i, formula in enumerate(FORMULAS):
            writer.writerow([f"not-an-email-{i}", formula, "'" + formula, "Acme"])
    code, _ = await bulkio(capsys, "import", str(path), "--create-client", "formulas",
                           "--rejects", "rejects.csv")
    assert code == 1
    with open("rejects.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][:3] == ["_row", "_error", "email"]
    assert [r[3] for r in rows[1:]] == ["'" + x for x in FORMULAS]  # inert in a spreadsheet
    assert [r[4] for r in rows[1:]] == ["''" + x for x in FORMULAS]  # and reversible
    code, _ = await bulkio(capsys, "import", str(path), "--client", "formulas",
                           "--rejects", "raw.csv", "--csv-raw", "--job-dir", "raw-job")
    with open("raw.csv", newline="") as f:
        assert [r[3] for r in list(csv.reader(f))[1:]] == FORMULAS
    for row in rows[1:]:  # the user corrects the emails
        row[2] = row[2].replace("not-an-email-", "fixed") + "@example.com"
    with open("corrected.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    code, output = await bulkio(capsys, "import", "corrected.csv", "--client", "formulas")
    assert code == 0 and "a rejects file of bulkio's" in output
    leads = sorted(stored(sandbox, "formulas"), key=lambda lead: lead["email"])
    assert [(lead["firstName"], lead["lastName"]) for lead in leads] == \
        [(x, "'" + x) for x in FORMULAS]
