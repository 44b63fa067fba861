"""API keys, as `POST|GET /api/agent-api-keys` make and list them (routes in app.py).

A key is `lgp_` and 40 hex digits, shown once when it is made; the table keeps only its
SHA-256, as a server should (the sign-up key is also in `users`: the sandbox prints it when it
starts). A key and the user's id (`x-user-id`) together authenticate, as in
docs/api-contract.md.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import uuid
from typing import Any

from .store import now_iso

SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    digest TEXT PRIMARY KEY, id TEXT UNIQUE NOT NULL, user_id TEXT NOT NULL,
    name TEXT NOT NULL, description TEXT NOT NULL, created_at TEXT NOT NULL);
"""
PREFIX = "lgp_"


def new_key() -> str:
    return PREFIX + secrets.token_hex(20)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """The keys of every user, in the sandbox's database."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(SCHEMA)

    def add(self, user_id: str, key: str, name: str, description: str = "") -> dict[str, Any]:
        """Record `key` for the user (again: nothing changes); its listing entry."""
        record = {"id": str(uuid.uuid4()), "name": name, "description": description,
                  "createdAt": now_iso()}
        self.db.execute("INSERT OR IGNORE INTO api_keys VALUES (?, ?, ?, ?, ?, ?)",
                        (_digest(key), record["id"], user_id, name, description,
                         record["createdAt"]))
        return record

    def owner(self, key: str) -> str | None:
        """The user id a key belongs to, or None for a key nobody made."""
        row = self.db.execute("SELECT user_id FROM api_keys WHERE digest = ?",
                              (_digest(key),)).fetchone()
        return str(row[0]) if row else None

    def of(self, user_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT id, name, description, created_at FROM api_keys "
                               "WHERE user_id = ? ORDER BY created_at, id", (user_id,))
        return [{"id": i, "name": n, "description": d, "createdAt": c} for i, n, d, c in rows]

    def revoke_all(self, user_id: str) -> None:
        self.db.execute("DELETE FROM api_keys WHERE user_id = ?", (user_id,))
