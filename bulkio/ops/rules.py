"""A job's rules: the options that decide what it sends and how it judges rows (an import's
mapping, its duplicate policy, its strategy...). They are recorded when the job starts; a
`--resume` runs under the same ones: an option given again with another value is refused,
naming it and both values, and an option left out takes the job's recorded value. Options
that only change pace or display (rate, concurrency, settle, quiet) are not rules.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import ConfigError

log = logging.getLogger("bulkio.jobs")


def given_options(options: Any, names: Mapping[str, str]) -> set[str]:
    """The rules the caller set: what the CLI says it was given (`options.given`), else those
    that differ from their defaults (a library caller's)."""
    said = getattr(options, "given", None)
    if said is not None:
        return set(said) & set(names)
    defaults = type(options)()  # every option a job has, has a default
    return {name for name in names if getattr(options, name) != getattr(defaults, name)}


def reconcile(recorded: Mapping[str, Any] | None, current: Mapping[str, Any], given: set[str],
              flags: Mapping[str, str], show: Callable[[str, Any], str], what: str
              ) -> dict[str, Any]:
    """On --resume: the recorded values of the rules left out (to run under them). Raises
    ConfigError, in one line, for a rule given with another value than the job's."""
    if recorded is None:
        log.warning("the %s was started by an earlier version of bulkio, which did not record "
                    "its options: they could not be checked against this run's", what)
        return {}
    changed = [name for name in flags if name in given and name in recorded
               and current.get(name) != recorded[name]]
    if changed:
        differences = "; ".join(f"{flags[n]} {show(n, current.get(n))} (the job: "
                                f"{show(n, recorded[n])})" for n in changed)
        raise ConfigError(f"--resume runs the {what} under the options it started with: "
                          f"{differences}. Leave them out to resume, or start a new job "
                          "with --job-dir")
    return {name: recorded[name] for name in flags
            if name in recorded and name not in given and current.get(name) != recorded[name]}


def differences(recorded: Mapping[str, Any], current: Mapping[str, Any],
                flags: Mapping[str, str], show: Callable[[str, Any], str], what: str) -> str:
    """A refused --resume in one line: each option that differs from the job's, both values."""
    changed = [k for k in sorted({*recorded, *current}) if recorded.get(k) != current.get(k)]
    said = "; ".join(f"{flags.get(k, k)} {show(k, current.get(k))} (the job: "
                     f"{show(k, recorded.get(k))})" for k in changed)
    return (f"--resume runs the {what} under the options it started with: {said}. Resume with "
            "the job's, or start a new job with --job-dir")
