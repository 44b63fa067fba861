"""Every exception bulkio raises, in one hierarchy.

    BulkioError
    ├── ConfigError             a setting is missing or wrong (exit code 2)
    │   ├── UnknownClient       no client with that slug or id
    │   └── SourceError         the input file cannot be read as a whole (bad header, ...)
    ├── AuthError               credentials rejected, or none for this endpoint (exit code 2)
    ├── ApiError                the API answered with an error status
    │   ├── Unauthorized        401 (also an AuthError)
    │   ├── TransientApiError   429, 500/502/503/504 (but not the validation 500)  [Transient]
    │   │   └── RateLimited     429, with retry_after
    │   └── LeadRejected        the single-lead validation 500 or a 4xx on a lead
    ├── TransportError          no HTTP answer at all                              [Transient]
    │   ├── ConnectError        the request never left (connection refused, DNS)
    │   └── ResponseLost        sent, but the answer was lost (timeout, disconnect)
    │       └── AnswerTimeout   no answer within the timeout
    ├── ServerUnreachable       the server never answered a first request, or its login
    │                           gave up: not worth retrying request by request
    ├── Interrupted             a run stopped for now, to resume later (exit code 75): a
    │                           source's daily quota is used up, or an API went down mid-run
    └── OutcomeUnknown          a non-idempotent request may or may not have taken effect

Retryability lives on the type (the Transient mixin), so the retry policy never parses
messages. Messages say what failed and what to do; facts stay attributes. No message ever
carries a token, password or API key: requests' headers are never put into an exception.
"""

from __future__ import annotations


class BulkioError(Exception):
    """Base of every bulkio error."""


class Transient:
    """Mixin: worth retrying (with backoff) under the retry policy."""


class ConfigError(BulkioError):
    """A setting is missing or wrong; the message says what to set."""


class UnknownClient(ConfigError):
    def __init__(self, ident: str, known: list[str]) -> None:
        hint = f" Known clients: {', '.join(known[:10])}." if known else " This company has no clients."
        super().__init__(f"no client {ident!r} in this company.{hint} "
                         "Run `bulkio clients` to list slugs and ids.")
        self.ident = ident
        self.known = known


class SourceError(ConfigError):
    """The input cannot be imported at all (a bad row is data, not an exception)."""


class AuthError(BulkioError):
    """Credentials missing or rejected; the message says how to log in."""


class ApiError(BulkioError):
    """The API answered with an error status."""

    def __init__(self, status: int, message: str, error_type: str = "",
                 recommendation: str = "", method: str = "", path: str = "") -> None:
        where = f"{method} {path}: " if method else ""
        text = f"{where}HTTP {status}: {message}"
        if recommendation:
            text += f" ({recommendation})"
        super().__init__(text)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.recommendation = recommendation
        self.method = method
        self.path = path


class Unauthorized(ApiError, AuthError):
    """401: the credentials sent were refused (expired, revoked, or wrong for this endpoint)."""


class TransientApiError(Transient, ApiError):
    """A server-side failure expected to pass: 429, 500, 502, 503, 504."""


class RateLimited(TransientApiError):
    """429: the quota is exhausted for `retry_after` seconds."""

    def __init__(self, retry_after: float, **kwargs: str) -> None:
        super().__init__(429, "rate limited", "rate_limited", **kwargs)
        self.retry_after = retry_after


class LeadRejected(ApiError):
    """The API refused this lead (the validation 500, or a 4xx): retrying will not help."""


class TransportError(Transient, BulkioError):
    """No HTTP answer: the request failed on the wire."""

    #: False when the request certainly never reached the server.
    may_have_reached_server = True


class ConnectError(TransportError):
    may_have_reached_server = False


class ResponseLost(TransportError):
    """Sent, but no answer came back: a timeout or a dropped connection."""


class AnswerTimeout(ResponseLost):
    """Sent (or connected), and no answer came within the timeout."""


class ServerUnreachable(BulkioError):
    """The server cannot be reached at all (not transient at the level of one request): a
    first contact refused or unanswered, or a login that ran out of retries. A URL to check
    (exit code 2)."""


class Interrupted(BulkioError):
    """The run stopped before its end for a reason that passes (a daily quota, an outage):
    it ends as an interruption (report written, the resume command printed), exit code 75
    ("temporary failure: resume later", as sysexits has it).

    `reason` says what happened without the advice, for callers that resume their own way
    (the service's jobs have a Resume button, not a command)."""

    def __init__(self, reason: str, when: str = "once it answers again") -> None:
        super().__init__(f"{reason}; stopped for now: run the same command with --resume"
                         + (f" {when}" if when else ""))
        self.reason = reason


class OutcomeUnknown(BulkioError):
    """A request that is not safe to repeat (a create) failed in a way that may have applied it.

    The caller must check whether it took effect before sending it again.
    """

    def __init__(self, cause: BaseException, method: str, path: str) -> None:
        super().__init__(f"{method} {path}: outcome unknown after {cause}")
        self.cause = cause
        self.method = method
        self.path = path
