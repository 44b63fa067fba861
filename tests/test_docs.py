"""The documentation cannot drift from the code: each command's reference page is its --help,
the report keys it lists are the reports' own, no link leaves the repository (but to public
pages), and what users read names documents by what they are."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from bulkio.models import EXPORT_REPORT_KEYS, IMPORT_REPORT_KEYS, PURGE_REPORT_KEYS
from bulkio.ops.campaigns.download import DOWNLOAD_REPORT_KEYS
from bulkio.ops.campaigns.exclusions import EXCLUSION_REPORT_KEYS
from bulkio.ops.campaigns.job import UPLOAD_REPORT_KEYS
from bulkio.ops.emails.report import EMAIL_REPORT_KEYS
from bulkio.ops.process.report import PROCESS_REPORT_KEYS
from bulkio.ops.sync.job import SYNC_REPORT_KEYS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(DOCS.rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# "the seed(s)" named the source documents; a random seed (--chaos-seed) is a user's word.
INTERNAL = re.compile(r"(?i)(?<![-_])\bseed(s|'s|s')?\b(?![-_])")


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_reference_page_is_its_commands_help() -> None:
    """docs/reference/ holds exactly what the commands print (make docs writes it)."""
    pages = generator().pages()
    committed = {p.name: p.read_text() for p in (DOCS / "reference").glob("*.md")}
    assert set(committed) == set(pages), "run make docs: a command was added or removed"
    for name, text in pages.items():
        assert committed[name] == text, f"docs/reference/{name} differs from --help: run make docs"


def test_a_changed_help_text_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a help text that changes no longer matches its page."""
    from bulkio.cli import main

    build = main.build_parser

    def changed() -> object:
        parser = build()
        parser.description = "something else"
        return parser

    monkeypatch.setattr(main, "build_parser", changed)
    assert generator().pages()["index.md"] != (DOCS / "reference" / "index.md").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_in_the_repository(page: Path) -> None:
    """Every link is a public web page or a file of the repository (never ../shared/)."""
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        path = target.split("#")[0]
        if not path:
            continue  # an anchor on the same page
        assert "../" not in path, f"{target}: links go down the tree, never up (../)"
        resolved = (page.parent / path).resolve()
        assert resolved.is_relative_to(ROOT), f"{target} leaves the repository"
        assert resolved.exists(), f"{target} does not exist"


def test_the_report_keys_are_the_reports_own() -> None:
    """Exit codes and reports lists each report's keys exactly, in order."""
    page = (DOCS / "exit-codes.md").read_text()
    for command, keys in (("import", IMPORT_REPORT_KEYS), ("export", EXPORT_REPORT_KEYS),
                          ("purge", PURGE_REPORT_KEYS), ("process", PROCESS_REPORT_KEYS),
                          ("emails validate", EMAIL_REPORT_KEYS),
                          ("exclusions upload", EXCLUSION_REPORT_KEYS),
                          ("campaign upload", UPLOAD_REPORT_KEYS),
                          ("campaign download", DOWNLOAD_REPORT_KEYS),
                          ("sync hubspot:contacts", SYNC_REPORT_KEYS)):
        row = next(line for line in page.splitlines() if line.startswith(f"| `{command}` | `"))
        assert re.findall(r"`([a-z_]+)`", row.split("|")[2]) == list(keys), command


def user_texts() -> dict[str, str]:
    """What users read: the pages, every --help, the web page's files."""
    import argparse

    from bulkio.cli.main import build_parser

    texts = {str(p.relative_to(ROOT)): p.read_text() for p in PAGES}

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        texts[f"{name} --help"] = parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    walk(child, f"{name} {sub}")

    walk(build_parser(), "bulkio")
    for path in (ROOT / "bulkio" / "service" / "static").iterdir():
        texts[str(path.relative_to(ROOT))] = path.read_text()
    return texts


def test_users_read_what_each_document_is_never_the_seed() -> None:
    found = [f"{where}: {m.group(0)!r}" for where, text in user_texts().items()
             for m in INTERNAL.finditer(text)]
    assert found == []
    assert INTERNAL.search("as the seed says") and not INTERNAL.search("--chaos-seed N")
