"""What the sandbox's routes share: its state, and who is calling."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from aiohttp import web

from . import tokens
from .api_keys import ApiKeys
from .chaos import Chaos
from .config import SandboxConfig
from .ratelimit import SlidingWindowQuota
from .runs import Processing
from .store import Store, User

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SandboxState:
    """Everything the routes share; tests reach it through the running Sandbox."""

    config: SandboxConfig
    store: Store
    user: User
    chaos: Chaos
    quota: SlidingWindowQuota
    api_keys: ApiKeys
    processing: Processing = field(default_factory=Processing)
    counts: Counter[str] = field(default_factory=Counter)
    # token -> (user, exp): a signature is checked once per token, its expiry every time.
    verified: dict[str, tuple[User, float]] = field(default_factory=dict)
    watchers: dict[str, list[tuple[int, asyncio.Event]]] = field(default_factory=dict)
    # route ("POST /api/leads") -> an event its requests wait on until set (tests only)
    holds: dict[str, asyncio.Event] = field(default_factory=dict)

    def bump(self, key: str) -> None:
        """Count an event, and wake whoever waits for that count (tests, without polling)."""
        self.counts[key] += 1
        waiting = self.watchers.get(key)
        if waiting:
            for threshold, event in waiting:
                if self.counts[key] >= threshold:
                    event.set()
            self.watchers[key] = [(t, e) for t, e in waiting if not e.is_set()]

    def when(self, key: str, count: int) -> asyncio.Event:
        """An event set once `key` has been counted `count` times."""
        event = asyncio.Event()
        if self.counts[key] >= count:
            event.set()
        else:
            self.watchers.setdefault(key, []).append((count, event))
        return event

    def hold(self, route: str) -> asyncio.Event:
        """Make requests to `route` wait until the returned event is set (tests: a process
        kept running, without sleeps, while another one is tried)."""
        release = self.holds[route] = asyncio.Event()
        return release

    def add_user(self, email: str, company_name: str = "Sandbox Company") -> User:
        """Another account (with a company and an API key of its own), for tests."""
        user = self.store.ensure_user(email, company_name)
        self.api_keys.add(user.id, user.api_key, "sign-up key")
        return user

    def api_key_user(self, key: str, user_id: str) -> User | None:
        """The user of an API-key pair, when the key is theirs."""
        owner = self.api_keys.owner(key)
        return self.store.user_by_id(owner) if owner == user_id else None

    def bearer_user(self, token: str) -> User | None:
        """The user of a valid token; raises tokens.TokenExpired / TokenInvalid."""
        hit = self.verified.get(token)
        if hit is None:
            claims = tokens.verify(token, self.store.secret)
            user = self.store.user_by_id(str(claims["sub"]))
            if user is None:
                return None
            if len(self.verified) > 10_000:
                self.verified.clear()
            hit = self.verified[token] = (user, float(claims["exp"]))
        if time.time() >= hit[1]:
            raise tokens.TokenExpired()
        return hit[0]

    def access_token(self, user: User) -> str:
        return tokens.issue(user.id, self.store.secret, self.config.token_ttl, "access")


STATE: web.AppKey[SandboxState] = web.AppKey("state", SandboxState)
# Who is calling: set by the gateway, read by the handler (same task, so no request storage,
# whose typed keys need aiohttp >= 3.14).
CALLER: ContextVar[User] = ContextVar("caller")
