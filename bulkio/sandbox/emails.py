"""Email checks (docs/api-contract.md, "Email checks"), with deterministic verdicts so tests and
rehearsals know what to expect:

- validate: `syntax` (not one @, an empty or over-long part, a space, dots out of place, no
  dot in the domain), `no_mx` (reserved names: example.com/.net/.org, *.invalid, *.test,
  *.example, *.localhost), `disposable` (mailinator.com, yopmail.com...), else `ok`;
- verify (deep): `undeliverable` for what validate refuses and for mailboxes that bounce
  (`bounce*`, `nobody`, `invalid` before the @); `risky` for role addresses (info@, sales@,
  support@...), disposable domains and the catch-all domain `catchall.io`; `unknown` for a
  greylisting domain (`greylisted.net`); else `deliverable`.
"""

from __future__ import annotations

from aiohttp import web

from .replies import answer, json_object, required
from .state import STATE

DISPOSABLE = frozenset(("mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com",
                        "trashmail.com", "tempmail.dev"))
RESERVED = frozenset(("example.com", "example.net", "example.org"))
RESERVED_TLDS = (".invalid", ".test", ".example", ".localhost")
ROLES = frozenset(("info", "sales", "support", "admin", "contact", "hello", "office", "team",
                   "marketing", "noreply", "no-reply", "postmaster", "webmaster", "billing"))
BOUNCES = ("bounce", "nobody", "invalid")
CATCH_ALL = frozenset(("catchall.io",))
GREYLISTING = frozenset(("greylisted.net",))


def validate(email: str) -> tuple[bool, str]:
    """(valid, reason) as POST /api/email-validate says it."""
    local, at, domain = email.strip().rpartition("@")
    domain = domain.lower()
    if not at or not local or "@" in local or len(local) > 64 or len(email) > 254 \
            or any(c.isspace() for c in email.strip()) or local.startswith(".") \
            or local.endswith(".") or ".." in email or "." not in domain \
            or domain.startswith(".") or domain.endswith(".") or domain.startswith("-"):
        return False, "syntax"
    if domain in RESERVED or domain.endswith(RESERVED_TLDS):
        return False, "no_mx"
    if domain in DISPOSABLE:
        return False, "disposable"
    return True, "ok"


def verify(email: str) -> tuple[str, str]:
    """(result, reason) as POST /api/email-verify says it."""
    valid, reason = validate(email)
    local, _, domain = email.strip().lower().rpartition("@")
    if reason == "disposable":
        return "risky", "disposable"
    if not valid:
        return "undeliverable", reason
    if local.startswith(BOUNCES):
        return "undeliverable", "mailbox_not_found"
    if local in ROLES:
        return "risky", "role_address"
    if domain in CATCH_ALL:
        return "risky", "catch_all"
    if domain in GREYLISTING:
        return "unknown", "greylisted"
    return "deliverable", "ok"


async def post_validate(request: web.Request) -> web.Response:
    email = required(await json_object(request), "email")
    request.app[STATE].bump("email_validate")
    valid, reason = validate(email)
    return answer(200, {"success": True, "email": email, "valid": valid, "reason": reason})


async def post_verify(request: web.Request) -> web.Response:
    email = required(await json_object(request), "email")
    request.app[STATE].bump("email_verify")
    result, reason = verify(email)
    return answer(200, {"success": True, "email": email, "result": result, "reason": reason})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/api/email-validate", post_validate)
    router.add_post("/api/email-verify", post_verify)
