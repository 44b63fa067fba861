"""The saved-credentials file (`~/.leadgenius_auth.json`): the format the LeadGenius Pro API's
own scripts use, plus `api_key`.

Written atomically (temporary file in the same directory, fsync, rename) with mode 0600 from
the first byte, so a crash never leaves a half-written file and no other user can read it.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from ..http.secret_files import read_secret_json
from ..store.files import atomic_write

#: Keys of that format, plus api_key. Nothing else is written.
KEYS = ("token", "id_token", "refresh_token", "email", "user_id", "base_url", "api_key")


def load_auth_file(path: Path) -> dict[str, str]:
    """The file's string fields; an empty dict when the file does not exist. A file other
    users can read is made private (0600) at once, and the log says so: it holds tokens and
    an API key."""
    return read_secret_json(path, "auth", "bulkio auth login")


def save_auth_file(path: Path, fields: dict[str, str]) -> None:
    """Replace the file atomically with `fields` (only the known keys), mode 0600."""
    data = {k: fields[k] for k in KEYS if fields.get(k)}
    atomic_write(path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n", mode=0o600)


def update_auth_file(path: Path, changes: dict[str, str]) -> None:
    """Merge `changes` into the file (used to write refreshed tokens back)."""
    save_auth_file(path, {**load_auth_file(path), **changes})
