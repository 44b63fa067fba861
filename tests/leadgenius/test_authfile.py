"""The auth file: the LeadGenius scripts' format plus api_key, mode 0600, atomic."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest

from bulkio.errors import ConfigError
from bulkio.leadgenius.authfile import load_auth_file, save_auth_file, update_auth_file


def test_saved_with_mode_0600_and_only_known_keys(tmp_path: Path) -> None:
    """Mode 0600; unknown keys (a password, say) are never written; nothing left behind."""
    path = tmp_path / "sub" / "auth.json"
    save_auth_file(path, {"token": "t", "email": "e@x.com", "password": "never", "api_key": "k"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert orjson.loads(path.read_bytes()) == {"token": "t", "email": "e@x.com", "api_key": "k"}
    assert os.listdir(path.parent) == ["auth.json"]


def test_update_merges(tmp_path: Path) -> None:
    """Writing back a token keeps the other fields."""
    path = tmp_path / "auth.json"
    save_auth_file(path, {"token": "old", "email": "e@x.com"})
    update_auth_file(path, {"token": "new"})
    assert load_auth_file(path) == {"token": "new", "email": "e@x.com"}


def test_missing_file_is_empty_and_garbage_is_a_config_error(tmp_path: Path) -> None:
    """No file: {}. Not JSON, or not an object: a ConfigError naming `bulkio auth login`."""
    assert load_auth_file(tmp_path / "none.json") == {}
    for content in (b"{not json", b"[1, 2]"):
        bad = tmp_path / "bad.json"
        bad.write_bytes(content)
        with pytest.raises(ConfigError, match="bulkio auth login"):
            load_auth_file(bad)


def test_the_seeds_own_format_loads(tmp_path: Path) -> None:
    """A file written by LeadGenius's own auth script is read as is."""
    path = tmp_path / "auth.json"
    path.write_text('{"token": "a", "id_token": "b", "refresh_token": "c", "email": "d@x.com", '
                    '"user_id": "u", "base_url": "https://last.leadgenius.app"}')
    assert load_auth_file(path)["refresh_token"] == "c"
