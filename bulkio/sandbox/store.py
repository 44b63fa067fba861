"""The sandbox's data: users, companies, clients and leads in SQLite (stdlib sqlite3).

In memory by default; with a file path the data outlives the process, so a rehearsal can be
inspected afterwards with any SQLite tool. Lead records are kept as their JSON text, so a
5,000-lead page is served by joining stored strings, not by parsing and re-encoding them.

Paging emulates the API's opaque cursor *including its offset semantics*: when rows before a
cursor's position are deleted while a client pages, the next page skips as many unseen rows.
The `deletions` log makes that cheap: a page is an index range scan (`seq > k`) with an
OFFSET equal to the rows deleted before `k` since the cursor was issued (usually 0).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

ENRICH = 0
SOURCE = 1

_SCHEMA = """
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, email TEXT UNIQUE NOT NULL, password TEXT NOT NULL,
    api_key TEXT UNIQUE NOT NULL, company_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS companies (company_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS clients (
    id TEXT PRIMARY KEY, client_id TEXT NOT NULL, company_id TEXT NOT NULL, data TEXT NOT NULL,
    UNIQUE (company_id, client_id));
CREATE TABLE IF NOT EXISTS leads (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, kind INTEGER NOT NULL,
    company_id TEXT NOT NULL, client_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deletions (
    serial INTEGER PRIMARY KEY, seq INTEGER NOT NULL, kind INTEGER NOT NULL,
    company_id TEXT NOT NULL, client_id TEXT NOT NULL);
"""
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS leads_id ON leads (id);
CREATE INDEX IF NOT EXISTS leads_client ON leads (kind, company_id, client_id, seq);
CREATE INDEX IF NOT EXISTS leads_company ON leads (kind, company_id, seq);
"""
_DROP_INDEXES = """
DROP INDEX IF EXISTS leads_id; DROP INDEX IF EXISTS leads_client; DROP INDEX IF EXISTS leads_company;
"""
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class CursorInvalid(Exception):
    """A nextToken this sandbox did not issue, or issued for another query."""


@dataclass(frozen=True)
class User:
    id: str
    email: str
    password: str
    api_key: str
    company_id: str


@dataclass(frozen=True)
class Page:
    items_json: list[str]  # each item already encoded as a JSON object
    next_token: str | None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_lead(company_id: str, owner: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A lead record with its id and times, as a create answers it."""
    stamp = now_iso()
    return {"id": f"lead-{uuid.uuid4()}", **fields, "company_id": company_id, "owner": owner,
            "createdAt": stamp, "updatedAt": stamp}


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "client"


class Store:
    """All sandbox state. Single-threaded: the aiohttp handlers call it from the event loop."""

    def __init__(self, path: str | None = None) -> None:
        self.db = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        self.db.executescript(_SCHEMA + _INDEXES)
        # A --db file opened again keeps its data: the starting data is made once, when new.
        self.fresh = self.db.execute("SELECT 1 FROM meta WHERE key = 'jwt_secret'").fetchone() is None
        self._secret = self._meta("jwt_secret", lambda: secrets.token_hex(32)).encode()
        self._users: dict[tuple[str, str], User] = {}  # users never change once created

    @property
    def secret(self) -> bytes:
        """Signs JWTs and cursors; kept in the database so tokens survive a restart."""
        return self._secret

    def close(self) -> None:
        self.db.close()

    def hubspot_token(self) -> str:
        """The HubSpot twin's private-app token (HubSpot's `pat-<region>-<uuid>` form)."""
        return self._meta("hubspot_token", lambda: f"pat-na1-{uuid.uuid4()}")

    def legacy_api_key(self) -> str:
        """The legacy enrichment API's key (40 hex digits, as Django REST framework's tokens)."""
        return self._meta("legacy_api_key", lambda: secrets.token_hex(20))

    def _meta(self, key: str, default: Any) -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row:
            return str(row[0])
        value = default()
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
        return str(value)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- identities -----------------------------------------------------------------------

    def ensure_user(self, email: str, company_name: str = "Sandbox Company") -> User:
        """The user with this email, created (with a company of its own) on first use."""
        user = self.user_by_email(email)
        if user:
            return user
        user = User(
            id=str(uuid.uuid4()),
            email=email,
            password=secrets.token_urlsafe(12),
            api_key="lgp_" + secrets.token_hex(20),
            company_id=f"company-{secrets.token_hex(6)}",
        )
        company = {"company_id": user.company_id, "companyName": company_name,
                   "owner": user.id, "createdAt": now_iso()}
        with self.transaction():
            self.db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                            (user.id, user.email, user.password, user.api_key, user.company_id))
            self.db.execute("INSERT INTO companies VALUES (?, ?)",
                            (user.company_id, orjson.dumps(company).decode()))
        return user

    def _user(self, where: str, value: str) -> User | None:
        key = (where, value)
        if key in self._users:
            return self._users[key]
        row = self.db.execute(
            f"SELECT id, email, password, api_key, company_id FROM users WHERE {where} = ?", (value,)
        ).fetchone()
        if row is None:
            return None  # not cached: the user may be created later
        self._users[key] = User(*row)
        return self._users[key]

    def user_by_email(self, email: str) -> User | None:
        return self._user("email", email)

    def user_by_id(self, user_id: str) -> User | None:
        return self._user("id", user_id)

    def issue_refresh_token(self, user_id: str) -> str:
        token = secrets.token_urlsafe(48)
        self.db.execute("INSERT INTO refresh_tokens (token, user_id) VALUES (?, ?)", (token, user_id))
        return token

    def user_for_refresh_token(self, token: str) -> str | None:
        row = self.db.execute(
            "SELECT user_id FROM refresh_tokens WHERE token = ? AND revoked = 0", (token,)
        ).fetchone()
        return str(row[0]) if row else None

    def revoke_refresh_tokens(self) -> None:
        self.db.execute("UPDATE refresh_tokens SET revoked = 1")

    def company(self, company_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT data FROM companies WHERE company_id = ?", (company_id,)).fetchone()
        return dict(orjson.loads(row[0])) if row else {}

    # -- clients --------------------------------------------------------------------------

    def list_clients(self, company_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT data FROM clients WHERE company_id = ? ORDER BY rowid", (company_id,))
        return [orjson.loads(r[0]) for r in rows]

    def find_client(self, company_id: str, ident: str) -> dict[str, Any] | None:
        """A client by its UUID `id` or by its slug `client_id`."""
        row = self.db.execute(
            "SELECT data FROM clients WHERE company_id = ? AND (id = ? OR client_id = ?)",
            (company_id, ident, ident)).fetchone()
        return dict(orjson.loads(row[0])) if row else None

    def client_by_uuid(self, company_id: str, client_uuid: str) -> dict[str, Any] | None:
        """A client by its UUID `id` only: the client-record endpoints take nothing else."""
        row = self.db.execute("SELECT data FROM clients WHERE company_id = ? AND id = ?",
                              (company_id, client_uuid)).fetchone()
        return dict(orjson.loads(row[0])) if row else None

    def create_client(self, company_id: str, owner: str, fields: dict[str, Any]) -> dict[str, Any]:
        base = slugify(str(fields["clientName"]))
        taken = {r[0] for r in self.db.execute(
            "SELECT client_id FROM clients WHERE company_id = ? AND client_id LIKE ?",
            (company_id, base + "%"))}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        stamp = now_iso()
        client = {"id": str(uuid.uuid4()), "client_id": slug, **fields, "owner": owner,
                  "company_id": company_id, "createdAt": stamp, "updatedAt": stamp}
        self.db.execute("INSERT INTO clients VALUES (?, ?, ?, ?)",
                        (client["id"], slug, company_id, orjson.dumps(client).decode()))
        return client

    def update_client(self, company_id: str, client_uuid: str,
                      changes: dict[str, Any]) -> dict[str, Any] | None:
        client = self.client_by_uuid(company_id, client_uuid)
        if client is None:
            return None
        protected = {"id", "client_id", "owner", "company_id", "createdAt"}
        client.update({k: v for k, v in changes.items() if k not in protected})
        client["updatedAt"] = now_iso()
        self.db.execute("UPDATE clients SET data = ? WHERE id = ?",
                        (orjson.dumps(client).decode(), client_uuid))
        return client

    def delete_client(self, company_id: str, client_uuid: str) -> bool:
        cur = self.db.execute("DELETE FROM clients WHERE company_id = ? AND id = ?",
                              (company_id, client_uuid))
        return cur.rowcount > 0

    # -- leads ----------------------------------------------------------------------------

    def count_leads(self, company_id: str, client_id: str, kind: int = ENRICH) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM leads WHERE kind = ? AND company_id = ? AND client_id = ?",
            (kind, company_id, client_id)).fetchone()
        return int(row[0])

    def insert_lead(self, company_id: str, owner: str, fields: dict[str, Any],
                    kind: int = ENRICH) -> dict[str, Any]:
        return self.put_lead(new_lead(company_id, owner, fields), kind)

    def put_lead(self, lead: dict[str, Any], kind: int = ENRICH) -> dict[str, Any]:
        """Store a lead record made by `new_lead` (now, or later: a lagging listing)."""
        company_id = str(lead["company_id"])
        self.db.execute(
            "INSERT INTO leads (id, kind, company_id, client_id, data) VALUES (?, ?, ?, ?, ?)",
            (lead["id"], kind, company_id, str(lead["client_id"]), orjson.dumps(lead).decode()))
        return lead

    def insert_lead_rows(self, rows: Iterable[tuple[str, int, str, str, str]]) -> None:
        """Bulk insert of (id, kind, company_id, client_id, data_json), for seeding."""
        self.db.executemany(
            "INSERT INTO leads (id, kind, company_id, client_id, data) VALUES (?, ?, ?, ?, ?)", rows)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """One transaction with the lead indexes rebuilt at the end: seeding 1M rows fast."""
        self.db.executescript(_DROP_INDEXES)
        try:
            with self.transaction():
                yield
        finally:
            self.db.executescript(_INDEXES)

    def get_lead(self, company_id: str, lead_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM leads WHERE id = ? AND company_id = ? AND kind = ?",
            (lead_id, company_id, ENRICH)).fetchone()
        return dict(orjson.loads(row[0])) if row else None

    def update_lead(self, company_id: str, lead_id: str,
                    changes: dict[str, Any]) -> dict[str, Any] | None:
        lead = self.get_lead(company_id, lead_id)
        if lead is None:
            return None
        protected = {"id", "company_id", "owner", "createdAt"}
        lead.update({k: v for k, v in changes.items() if k not in protected})
        for key in [k for k, v in changes.items() if v == "" and k not in protected]:
            del lead[key]  # "" in an update clears the field
        lead["updatedAt"] = now_iso()
        self.db.execute("UPDATE leads SET data = ?, client_id = ? WHERE id = ?",
                        (orjson.dumps(lead).decode(), str(lead.get("client_id", "")), lead_id))
        return lead

    def delete_leads(self, company_id: str, lead_ids: Sequence[str]) -> int:
        """Delete these enrich leads of the company; return how many existed."""
        deleted = 0
        with self.transaction():
            for lead_id in lead_ids:
                row = self.db.execute(
                    "SELECT seq, client_id FROM leads WHERE id = ? AND company_id = ? AND kind = ?",
                    (lead_id, company_id, ENRICH)).fetchone()
                if row:
                    self._delete_seq(row[0], ENRICH, company_id, row[1])
                    deleted += 1
        return deleted

    def delete_client_leads(self, company_id: str, client_id: str, limit: int) -> int:
        """Delete up to `limit` of a client's enrich leads, oldest first."""
        rows = self.db.execute(
            "SELECT seq FROM leads WHERE kind = ? AND company_id = ? AND client_id = ? "
            "ORDER BY seq LIMIT ?", (ENRICH, company_id, client_id, limit)).fetchall()
        with self.transaction():
            for (seq,) in rows:
                self._delete_seq(seq, ENRICH, company_id, client_id)
        return len(rows)

    def _delete_seq(self, seq: int, kind: int, company_id: str, client_id: str) -> None:
        self.db.execute("DELETE FROM leads WHERE seq = ?", (seq,))
        self.db.execute(
            "INSERT INTO deletions (seq, kind, company_id, client_id) VALUES (?, ?, ?, ?)",
            (seq, kind, company_id, client_id))

    # -- paging ---------------------------------------------------------------------------

    def page(self, kind: int, company_id: str, client_id: str | None, limit: int,
             token: str | None = None, fields: Sequence[str] | None = None,
             repeat_last: bool = False) -> Page:
        """One page of leads in insertion order; `client_id=None` means every client.

        `fields` projects each record onto those keys plus `id` (absent keys are left out).
        `repeat_last` starts a continued page with the previous page's last record again.
        Raises CursorInvalid for a token that does not belong to this query.
        """
        scope = f"{kind}|{company_id}|{client_id or '*'}"
        after, skip = 0, 0
        if token:
            after, serial = self._decode_cursor(token, scope)
            skip = self._deleted_since(serial, after, kind, company_id, client_id)
        column = "data"
        params: list[Any] = []
        if fields:
            pairs = []
            for name in dict.fromkeys(fields):
                if name != "id":
                    pairs.append("?, json_extract(data, ?)")
                    params += [name, f'$."{name}"']
            # json_patch drops the keys whose value is null: absent fields stay absent.
            column = f"json_patch('{{}}', json_object('id', id{''.join(', ' + p for p in pairs)}))"
        where = f"kind = ? AND company_id = ? AND seq {'>=' if repeat_last and token else '>'} ?"
        params += [kind, company_id, after]
        if client_id is not None:
            where += " AND client_id = ?"
            params.append(client_id)
        rows = self.db.execute(
            f"SELECT seq, {column} FROM leads WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
            (*params, limit + 1, skip)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        next_token = self._encode_cursor(rows[-1][0], scope) if more else None
        return Page([r[1] for r in rows], next_token)

    def _deleted_since(self, serial: int, after: int, kind: int, company_id: str,
                       client_id: str | None) -> int:
        sql = ("SELECT count(*) FROM deletions WHERE serial > ? AND seq <= ? AND kind = ? "
               "AND company_id = ?")
        params: list[Any] = [serial, after, kind, company_id]
        if client_id is not None:
            sql += " AND client_id = ?"
            params.append(client_id)
        return int(self.db.execute(sql, params).fetchone()[0])

    def _encode_cursor(self, after: int, scope: str) -> str:
        serial = self.db.execute("SELECT coalesce(max(serial), 0) FROM deletions").fetchone()[0]
        body = base64.urlsafe_b64encode(orjson.dumps([after, serial])).rstrip(b"=")
        return (body + b"." + self._cursor_mac(body, scope)).decode("ascii")

    def _decode_cursor(self, token: str, scope: str) -> tuple[int, int]:
        try:
            body, mac = token.encode("ascii").split(b".")
            if not hmac.compare_digest(mac, self._cursor_mac(body, scope)):
                raise CursorInvalid(token)
            after, serial = orjson.loads(base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4)))
            return int(after), int(serial)
        except (ValueError, UnicodeError, TypeError, orjson.JSONDecodeError):
            raise CursorInvalid(token) from None

    def _cursor_mac(self, body: bytes, scope: str) -> bytes:
        digest = hmac.new(self._secret, body + scope.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:12]).rstrip(b"=")

    @staticmethod
    def valid_field_name(name: str) -> bool:
        return bool(_FIELD_NAME.match(name))
