"""Secrets read from files: one the user names (`--hubspot-token-file`, `--legacy-key-file`:
flags would show it in `ps` and in shell history), registered for redaction the moment it is
read; and the saved credentials files (`bulkio auth login`, `--legacy`). Each made private
(0600) when others could read it, saying so."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError
from .redact import register_secret

log = logging.getLogger("bulkio")


def read_secret_file(path: Path, what: str) -> str:
    """The file's text, stripped (`what` names it in messages: "HubSpot token")."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no such {what} file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the {what} file {path}: {exc}") from None
    make_private(path, what)
    secret = text.strip()
    if secret:
        register_secret(secret)
    return secret


def read_secret_json(path: Path, what: str, rewrite: str) -> dict[str, str]:
    """A credentials file's JSON object, its non-empty string fields ({} when the file does not
    exist), the file made private as `read_secret_file` does. `rewrite` is the command that
    writes it again, said when it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} file {path}: {exc.strerror}; fix its "
                          f"permissions, or run `{rewrite}`") from None
    try:
        data: Any = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise ConfigError(f"the {what} file {path} is not valid JSON; run `{rewrite}` to "
                          "rewrite it") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the {what} file {path} must hold a JSON object; run `{rewrite}` "
                          "to rewrite it")
    make_private(path, what)
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v}


def make_private(path: Path, what: str) -> None:
    """A file other users can read made 0600 at once, saying so (or how to, when it cannot)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if not mode & 0o077:
        return
    try:
        os.chmod(path, 0o600)
    except OSError as exc:
        log.warning("the %s file %s can be read by other users (mode %o) and could not be "
                    "made private: %s; chmod 600 it", what, path, mode, exc.strerror)
        return
    log.warning("the %s file %s could be read by other users (mode %o): it is now private "
                "(0600)", what, path, mode)
