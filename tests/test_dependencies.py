"""The lowest versions CI installs (.ci/lowest.txt) are the lower bounds pyproject.toml
declares, dependency by dependency: `make test-lowest` tests what a user may really get."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def declared_minimums() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    minimums = {}
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)", requirement.replace(" ", ""))
        assert match, f"{requirement!r}: declare a lower bound as name>=version"
        minimums[match[1].lower()] = match[2]
    return minimums


def constrained() -> dict[str, str]:
    pins = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def test_the_lowest_run_installs_each_declared_minimum() -> None:
    minimums, pins = declared_minimums(), constrained()
    assert set(pins) == set(minimums)
    for name, version in minimums.items():  # 3.10 is 3.10.0: the same release
        assert pins[name].split(".")[:3] == ([*version.split("."), "0", "0"])[:3], name
