"""Limits on guessing, counted once for every server of a deployment.

:class:`RateLimitMiddleware` limits logins per account and per client address, delivery codes
per account and per address, the public not-received report and donation tracking codes per
address. An answer over the limit is a 429 with a JSON body and ``Retry-After``.

Each attempt is *taken* from its rule's sliding window before the request runs, in one atomic
step that refuses it when the window is full; a rule that counts failures only gives the
attempt back when the answer was not a failure. So N servers, or N concurrent requests, never
let more than the limit through. Where the windows live:

* :class:`RedisCounters` (``REDIS_URL`` set): one sorted set per (rule, subject) in Redis,
  trimmed, counted and added to by one Lua script with the Redis server's clock, so every app
  server shares the same windows. Subjects (addresses, user names) are stored as digests.
* :class:`MemoryCounters` (no Redis: the SQLite demo, the tests): :class:`SlidingWindow` in
  the process, which is right for one process only.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.asyncio import Redis

__all__ = (
    "DEFAULT_RULES",
    "Counters",
    "Limit",
    "MemoryCounters",
    "RateLimitMiddleware",
    "RateLimiter",
    "RateRule",
    "RedisCounters",
    "SlidingWindow",
)


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``count`` hits per ``seconds``."""

    count: int
    seconds: float = 60.0


class SlidingWindow:
    """Hits per key over the last ``limit.seconds``; in memory, oldest keys swept."""

    def __init__(self, limit: Limit, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self._hits: dict[str, deque[float]] = {}
        self._max_keys = max_keys

    def _recent(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and now - hits[0] >= self.limit.seconds:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def retry_after(self, key: str, now: float) -> float | None:
        """Seconds to wait when ``key`` is at its limit, else ``None``."""
        hits = self._recent(key, now)
        if hits is None or len(hits) < self.limit.count:
            return None
        return self.limit.seconds - (now - hits[0])

    def hit(self, key: str, now: float) -> None:
        hits = self._recent(key, now)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._sweep(now)
            hits = self._hits[key] = deque(maxlen=self.limit.count)
        hits.append(now)

    def forget(self, key: str, at: float) -> None:
        """Remove one hit made at ``at`` (an attempt given back)."""
        hits = self._hits.get(key)
        if hits is not None and at in hits:
            hits.remove(at)
            if not hits:
                del self._hits[key]

    def _sweep(self, now: float) -> None:
        for key in list(self._hits):
            self._recent(key, now)
        while len(self._hits) >= self._max_keys:  # still full: forget the oldest keys
            del self._hits[next(iter(self._hits))]


Keyer = Callable[[Scope, dict[str, str]], str | None]


def by_address(scope: Scope, _: dict[str, str]) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def by_username(_: Scope, form: dict[str, str]) -> str | None:
    name = form.get("username")
    return name.strip().lower() if name and name.strip() else None


def by_account(scope: Scope, _: dict[str, str]) -> str | None:
    user = scope.get("user")
    account = getattr(user, "id", None)
    return None if account is None else str(account)


@dataclass(frozen=True, slots=True, kw_only=True)
class RateRule:
    """A limit on one kind of attempt: which requests, keyed how, counting what.

    ``failures_only``: only answers with a status in 400..499 (but 429) count, so that a
    courier confirming many right codes, or a donor tracking a real gift, is never slowed;
    once at the limit every attempt is refused until the window moves on.
    """

    name: str
    method: str
    path: re.Pattern[str]
    limit: Limit
    key: Keyer
    failures_only: bool = False
    reads_body: bool = False


LOGIN_PATHS = re.compile(r"^/(?:api/auth/(?:login|token)|login)/?$")
CONFIRM_PATH = re.compile(r"^/api/(?:deliveries|visits)/\d+/confirm/?$")  # either door
REPORT_PATH = re.compile(r"^/(?:api/delivery-reports|not-received)/?$")
TRACK_PATH = re.compile(r"^/(?:api/track|donations)/[^/]+(?:/receipt)?/?$")

DEFAULT_RULES: tuple[RateRule, ...] = (
    RateRule(
        name="login-address", method="POST", path=LOGIN_PATHS, limit=Limit(30), key=by_address
    ),
    RateRule(
        name="login-account",
        method="POST",
        path=LOGIN_PATHS,
        limit=Limit(10),
        key=by_username,
        failures_only=True,
        reads_body=True,
    ),
    RateRule(
        name="code-address",
        method="POST",
        path=CONFIRM_PATH,
        limit=Limit(30),
        key=by_address,
        failures_only=True,
    ),
    RateRule(
        name="code-account",
        method="POST",
        path=CONFIRM_PATH,
        limit=Limit(10),
        key=by_account,
        failures_only=True,
    ),
    RateRule(
        name="report-address", method="POST", path=REPORT_PATH, limit=Limit(10), key=by_address
    ),
    RateRule(
        name="track-address",
        method="GET",
        path=TRACK_PATH,
        limit=Limit(30),
        key=by_address,
        failures_only=True,
    ),
)

MAX_PARSED_BODY = 16 * 1024


def _parse_credentials(body: bytes, content_type: str) -> dict[str, str]:
    """The string fields of a small JSON or form body (anything else: nothing)."""
    if len(body) > MAX_PARSED_BODY:
        return {}
    try:
        if "json" in content_type:
            value = json.loads(body)
            if isinstance(value, dict):
                return {k: v for k, v in value.items() if isinstance(v, str)}
            return {}
        if "form" in content_type:
            return {k: v[0] for k, v in parse_qs(body.decode("utf-8")).items() if v}
    except (ValueError, UnicodeDecodeError):
        return {}
    return {}


@dataclass(frozen=True, slots=True)
class Taken:
    """One attempt counted (``token`` gives it back), or refused (``wait``: seconds to wait)."""

    token: str | None = None
    wait: float = 0.0


class Counters(Protocol):
    """Where the windows of every rule live."""

    async def take(self, rule: RateRule, key: str) -> Taken:
        """Count one attempt of ``key`` under ``rule``, unless its window is full."""
        ...

    async def give_back(self, rule: RateRule, key: str, token: str) -> None:
        """Forget an attempt that :meth:`take` counted."""
        ...


class MemoryCounters:
    """The windows in this process (one server only)."""

    def __init__(
        self, rules: tuple[RateRule, ...], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.windows = {rule.name: SlidingWindow(rule.limit) for rule in rules}

    async def take(self, rule: RateRule, key: str) -> Taken:
        window = self.windows[rule.name]
        now = self.clock()
        wait = window.retry_after(key, now)
        if wait is not None:
            return Taken(wait=wait)
        window.hit(key, now)
        return Taken(token=now.hex())

    async def give_back(self, rule: RateRule, key: str, token: str) -> None:
        self.windows[rule.name].forget(key, float.fromhex(token))


# KEYS[1]: the window; ARGV: limit, window in ms, a member naming this attempt.
# Returns -1 when counted, else the milliseconds until the oldest attempt leaves the window.
TAKE_SCRIPT = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - ms)
end
redis.call('ZADD', KEYS[1], ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class RedisCounters:
    """The windows in Redis, shared by every server that uses the same ``namespace``."""

    def __init__(self, redis: Redis, *, namespace: str) -> None:
        self.redis = redis
        self.namespace = namespace
        self._take = redis.register_script(TAKE_SCRIPT)

    def _key(self, rule: RateRule, key: str) -> str:
        subject = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"{self.namespace}:limit:{rule.name}:{subject}"

    async def take(self, rule: RateRule, key: str) -> Taken:
        token = uuid.uuid4().hex
        window_ms = int(rule.limit.seconds * 1000)
        waited = int(
            await self._take(keys=[self._key(rule, key)], args=[rule.limit.count, window_ms, token])
        )
        if waited < 0:
            return Taken(token=token)
        return Taken(wait=waited / 1000)

    async def give_back(self, rule: RateRule, key: str, token: str) -> None:
        await self.redis.zrem(self._key(rule, key), token)


class RateLimiter:
    """The rules and where their counters live, shared by all routes of one app."""

    def __init__(
        self,
        rules: tuple[RateRule, ...] = DEFAULT_RULES,
        counters: Counters | None = None,
    ) -> None:
        self.rules = rules
        self.counters: Counters = counters or MemoryCounters(rules)


class RateLimitMiddleware:
    """Refuses attempts beyond the limiter's rules with 429 (JSON body, ``Retry-After``).

    Placed after authentication, so that per-account rules know the caller. Litestar builds
    one middleware per route: the counters live in the shared :class:`RateLimiter`.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.rules = limiter.rules
        self.counters = limiter.counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", ""))
        path = scope["path"]
        rules = [r for r in self.rules if r.method == method and r.path.match(path)]
        if not rules:
            await self.app(scope, receive, send)
            return
        form: dict[str, str] = {}
        if any(rule.reads_body for rule in rules):
            # Litestar's Request caches the body in the scope: the CSRF middleware may have
            # read it already (a form's token field), and the handler reads it again.
            body = await Request(scope, receive).body()
            content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
            form = _parse_credentials(body, content_type)
        keyed = [(rule, key) for rule in rules if (key := rule.key(scope, form)) is not None]
        taken: list[tuple[RateRule, str, str]] = []
        for rule, key in keyed:
            counted = await self.counters.take(rule, key)
            if counted.token is None:  # full: the attempts counted so far are given back
                for done, done_key, token in taken:
                    await self.counters.give_back(done, done_key, token)
                await _too_many(send, counted.wait)
                return
            taken.append((rule, key, counted.token))
        provisional = [entry for entry in taken if entry[0].failures_only]
        if not provisional:
            await self.app(scope, receive, send)
            return
        failed = False

        async def watch(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                failed = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            if not failed:  # only failures count against these rules
                for rule, key, token in provisional:
                    await self.counters.give_back(rule, key, token)


async def _too_many(send: Send, wait: float) -> None:
    seconds = max(1, math.ceil(wait))
    body = json.dumps(
        {
            "error": "too_many_requests",
            "detail": f"Too many attempts: try again in {seconds} seconds",
            "field": None,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 429,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(seconds).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
