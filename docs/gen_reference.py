"""Write docs/reference/: one page per bulkio command, its --help texts as argparse prints them.

    python docs/gen_reference.py          # (make docs runs it)

The pages are committed; tests/test_docs.py fails when a --help text and its page disagree,
so the two cannot drift.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

WIDTH = "100"  # argparse wraps help at $COLUMNS: the pages are made at this width
PAGES = Path(__file__).parent / "reference"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def help_text(parser: argparse.ArgumentParser) -> str:
    os.environ["COLUMNS"] = WIDTH
    return parser.format_help().rstrip() + "\n"


def block(parser: argparse.ArgumentParser) -> str:
    return f"```text\n{help_text(parser)}```\n"


def pages() -> dict[str, str]:
    """File name -> content, for `bulkio` and each of its commands."""
    from bulkio.cli.main import build_parser

    root = build_parser()
    out = {"index.md": "# Command reference\n\nEvery command's `--help`, as bulkio prints it "
                       "(generated from the commands themselves: `make docs`). The task pages "
                       "explain when to use which option.\n\n" + block(root) + "\n"
                       + "".join(f"- [`bulkio {name}`]({name}.md)\n" for name in subcommands(root))}
    for name, parser in subcommands(root).items():
        text = f"# `bulkio {name}`\n\n" + block(parser)
        for sub, child in subcommands(parser).items():
            text += f"\n## `bulkio {name} {sub}`\n\n" + block(child)
        out[f"{name}.md"] = text
    return out


def main() -> int:
    PAGES.mkdir(exist_ok=True)
    for name, content in pages().items():
        (PAGES / name).write_text(content)
    print(f"wrote {len(pages())} pages into {PAGES}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
