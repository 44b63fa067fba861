"""A secret read from a file the user names (`--hubspot-token-file`, `--legacy-key-file`):
flags would show it in `ps` and in shell history. Registered for redaction the moment it is
read, and the file made private (0600) when others could read it, saying so."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from ..errors import ConfigError
from .redact import register_secret

log = logging.getLogger("bulkio")


def read_secret_file(path: Path, what: str) -> str:
    """The file's text, stripped (`what` names it in messages: "HubSpot token")."""
    try:
        text = path.read_text(encoding="utf-8")
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise ConfigError(f"no such {what} file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {what} file {path}: {exc}") from None
    if mode & 0o077:
        try:
            os.chmod(path, 0o600)
        except OSError as exc:
            log.warning("the %s file %s can be read by other users (mode %o) and could not be "
                        "made private: %s; chmod 600 it", what, path, mode, exc.strerror)
        else:
            log.warning("the %s file %s could be read by other users (mode %o): it is now "
                        "private (0600)", what, path, mode)
    secret = text.strip()
    if secret:
        register_secret(secret)
    return secret
