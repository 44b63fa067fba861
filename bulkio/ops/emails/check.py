"""Checking many addresses with POST /api/email-validate (or, deep, /api/email-verify): each
distinct address once (letter case aside), under the quota, with the job's worker pool; the
verdicts kept in the job (`EmailChecks`), so a resumed job asks only what it has not.

Verdicts: validate's `valid` true is valid, false is invalid (its reason: syntax, no_mx,
disposable); verify's deliverable is valid, undeliverable invalid, risky risky, unknown
unknown. An address the checker could not answer for (errors past the retries) stays
unchecked: `unknown` in the output, asked again by a resumed run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from ...errors import ApiError, AuthError, TransportError
from ...leadgenius.client import LeadGeniusClient
from ...store.email_journal import EmailChecks
from ...store.serial import Serial
from ..pool import Send, run_pool

log = logging.getLogger("bulkio.emails")

VERIFY_VERDICT = {"deliverable": "valid", "undeliverable": "invalid", "risky": "risky",
                  "unknown": "unknown"}
FLUSH_EVERY = 100  # verdicts written to the job at a time


def verdict_of(answer: dict[str, Any], deep: bool) -> tuple[str, str | None]:
    """(verdict, reason) from the checker's answer."""
    reason = answer.get("reason")
    reason = str(reason) if reason is not None else None
    if deep:
        return VERIFY_VERDICT.get(str(answer.get("result")), "unknown"), reason
    valid = answer.get("valid")
    if not isinstance(valid, bool):
        return "unknown", reason or "the checker gave no verdict"
    return ("valid" if valid else "invalid"), reason


async def check_addresses(api: LeadGeniusClient, checks: EmailChecks, serial: Serial,
                          addresses: Sequence[tuple[str, str]], *, deep: bool,
                          on_checked: Callable[[int], None] | None = None) -> int:
    """Check every (key, address) not yet in `checks`; returns how many were asked now."""
    done = await serial(checks.checked)
    todo = list({k: e for k, e in addresses if k not in done}.items())
    results: list[tuple[str, str, str, str | None]] = []
    asked = 0

    async def produce(submit: Send[tuple[str, str]]) -> None:
        for item in todo:
            await submit(item)

    async def work(item: tuple[str, str]) -> None:
        nonlocal asked
        key, email = item
        try:
            answer = await (api.verify_email(email) if deep else api.validate_email(email))
        except AuthError:
            raise
        except ApiError as error:
            if error.status >= 500 or error.status == 429:
                log.info("checking %s failed (%s); a resumed run asks again", email, error)
                return
            answer = {"result": "unknown", "valid": None, "reason": error.message}
        except TransportError as error:
            log.info("checking %s failed (%s); a resumed run asks again", email, error)
            return
        results.append((key, email, *verdict_of(answer, deep)))
        asked += 1
        if on_checked is not None:
            on_checked(asked)
        if len(results) >= FLUSH_EVERY:
            batch = results[:]
            results.clear()
            await serial(checks.record, batch)

    try:
        await run_pool(produce, work, concurrency=api.settings.effective_concurrency)
    finally:
        with anyio.CancelScope(shield=True):  # what was asked is kept, Ctrl-C or not
            if results:
                await serial(checks.record, results)
    return asked
