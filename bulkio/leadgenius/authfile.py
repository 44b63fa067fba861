"""The saved-credentials file (`~/.leadgenius_auth.json`): the format the LeadGenius Pro API's
own scripts use, plus `api_key`.

Written atomically (temporary file in the same directory, fsync, rename) with mode 0600 from
the first byte, so a crash never leaves a half-written file and no other user can read it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError
from ..store.files import atomic_write

log = logging.getLogger("bulkio.auth")

#: Keys of that format, plus api_key. Nothing else is written.
KEYS = ("token", "id_token", "refresh_token", "email", "user_id", "base_url", "api_key")


def load_auth_file(path: Path) -> dict[str, str]:
    """The file's string fields; an empty dict when the file does not exist.

    A file other users can read is made private (0600) at once, and the log says so: it
    holds tokens and an API key.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the auth file {path}: {exc.strerror}; "
                          "fix its permissions or set LEADGENIUS_AUTH_FILE") from None
    try:
        data: Any = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise ConfigError(f"the auth file {path} is not valid JSON; "
                          "run `bulkio auth login` to rewrite it") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the auth file {path} must hold a JSON object; "
                          "run `bulkio auth login` to rewrite it")
    _make_private(path)
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and v}


def _make_private(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(path, 0o600)
        except OSError as exc:
            log.warning("the auth file %s can be read by other users (mode %o) and could not "
                        "be made private: %s; chmod 600 it", path, mode, exc.strerror)
            return
        log.warning("the auth file %s could be read by other users (mode %o): it is now "
                    "private (0600)", path, mode)


def save_auth_file(path: Path, fields: dict[str, str]) -> None:
    """Replace the file atomically with `fields` (only the known keys), mode 0600."""
    data = {k: fields[k] for k in KEYS if fields.get(k)}
    atomic_write(path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n", mode=0o600)


def update_auth_file(path: Path, changes: dict[str, str]) -> None:
    """Merge `changes` into the file (used to write refreshed tokens back)."""
    save_auth_file(path, {**load_auth_file(path), **changes})
