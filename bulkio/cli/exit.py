"""Exit codes, and the one place where exceptions become them.

    0    done: everything succeeded
    1    finished, but with problems (see the report), or an unexpected failure
    2    usage or configuration: a bad flag, missing or refused credentials, unknown client,
         a server that cannot be reached at all
    75   stopped for now (a daily quota used up, an API that went down mid-run): resume later
    130  interrupted (Ctrl-C, SIGTERM); resumable where the command says so
"""

from __future__ import annotations

import sys
import traceback

from ..errors import AuthError, BulkioError, ConfigError, Interrupted, ServerUnreachable
from ..http.redact import redact
from .shown import printable

OK = 0
PROBLEMS = 1
USAGE = 2
RESUME_LATER = 75  # sysexits' EX_TEMPFAIL
INTERRUPTED = 130


def fail(message: str) -> None:
    """Print one redacted error line on stderr."""
    print(f"bulkio: error: {printable(redact(message))}", file=sys.stderr)


def exit_code_for(error: BaseException, *, debug: bool = False) -> int:
    """Report `error` in one line (a traceback only with --debug) and return its exit code."""
    if isinstance(error, KeyboardInterrupt):
        print("bulkio: interrupted", file=sys.stderr)
        return INTERRUPTED
    if isinstance(error, (ConfigError, AuthError, ServerUnreachable)):
        fail(str(error))
        return USAGE
    if isinstance(error, Interrupted):
        fail(str(error))
        return RESUME_LATER
    if debug:
        print(redact("".join(traceback.format_exception(error))), file=sys.stderr, end="")
    if isinstance(error, BulkioError):
        fail(str(error))
        return PROBLEMS
    fail(f"unexpected {type(error).__name__}: {error} (run with --debug for the traceback; "
         "please report it)")
    return PROBLEMS
