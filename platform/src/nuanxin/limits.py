"""Limits on guessing, counted once for every server of a deployment.

:class:`RateLimitMiddleware` limits logins per account and per client address, delivery codes
per account and per address (one delivery locks itself after five wrong codes), the public
not-received report and donation tracking codes per address. An answer over the limit is a
429 with ``Retry-After``: a JSON body for the API, the site's error page for a browser.

A limit applies to an *operation* (the route handler the router resolved, which names its
:class:`Guess`), on every face (API and pages), never to a spelling of a path; its *subject* is
what the handler itself reads: the account name as the handler decodes the body
(:func:`body_fields`, whatever the ``Content-Type``), the caller the authentication resolved.

Each attempt is *taken* from the sliding windows of its operation's rules before the request
runs, in one atomic step that counts it in all of them or, when one is full, in none and
refuses it; a rule that counts failures only gives the attempt back when the answer was not a
failure (one more step for all such rules). So N servers, or N concurrent requests, never let
more than the limit through. Where the windows live:

* :class:`RedisCounters` (``REDIS_URL`` set): one sorted set per (rule, subject) in Redis,
  trimmed, counted and added to by one Lua script with the Redis server's clock, so every app
  server shares the same windows. Subjects (addresses, user names) are stored as digests.
* :class:`MemoryCounters` (no Redis: the SQLite demo, the tests): :class:`SlidingWindow` in
  the process, which is right for one process only.
"""

from __future__ import annotations

import hashlib
import math
import time
import unicodedata
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

import msgspec
from litestar import Request
from litestar._parsers import parse_url_encoded_form_data
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState
from redis.asyncio import Redis

from nuanxin.security import body_media_type

__all__ = (
    "DEFAULT_RULES",
    "GUESSING",
    "Counters",
    "Guess",
    "Limit",
    "MemoryCounters",
    "RateLimitMiddleware",
    "RateLimiter",
    "RateRule",
    "RedisCounters",
    "SlidingWindow",
    "body_fields",
    "guess_of",
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


class Guess(StrEnum):
    """The kinds of guessing an operation allows: the key of its limits.

    A route handler names its kind with ``guessing=Guess.<kind>`` in its decorator (Litestar
    keeps it in ``handler.opt``). The limits apply to the operation the router resolved,
    whatever the spelling of its path (``/api/deliveries/+11/confirm``, ``%2011``, ``011``,
    a trailing slash), and to every face of it (the API and the pages).
    """

    login = "login"
    delivery_code = "delivery-code"
    visit_code = "visit-code"
    not_received = "not-received"
    tracking_code = "tracking-code"


#: The route handler option that names an operation's :class:`Guess`.
GUESSING = "guessing"


def guess_of(scope: Scope) -> Guess | None:
    """The kind of guessing of the operation the router resolved (``None``: unlimited)."""
    handler = scope.get("route_handler")
    kind = getattr(handler, "opt", {}).get(GUESSING)
    return None if kind is None else Guess(kind)


AnyRequest = Request[Any, Any, Any]
Keyer = Callable[[AnyRequest], Awaitable[str | None]]


async def by_address(request: AnyRequest) -> str | None:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


async def by_account(request: AnyRequest) -> str | None:
    account = getattr(request.scope.get("user"), "id", None)
    return None if account is None else str(account)


async def by_username(request: AnyRequest) -> str | None:
    """The account name as the login handler will read it (folded: ``Admin`` is ``admin``)."""
    name = (await body_fields(request)).get("username")
    folded = unicodedata.normalize("NFKC", name).strip().casefold() if name else ""
    return folded or None


async def body_fields(request: AnyRequest) -> dict[str, str]:
    """The string fields of the body, decoded as the route handler decodes it.

    The handler's ``data`` says how, not the request's ``Content-Type`` (which a client may
    set to anything): Litestar reads a JSON body as JSON and a form body as a form whatever
    the header says. A body the handler could not read has no fields.
    """
    media_type = body_media_type(request.scope)
    if media_type is None:
        return {}
    try:
        if media_type in (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART):
            cached = ScopeState.from_scope(request.scope).form
            if cached is not Empty:
                values: Any = dict(cached)
            elif media_type == RequestEncodingType.URL_ENCODED:  # as Litestar's extractor does
                values = parse_url_encoded_form_data(await request.body())
            else:
                values = dict((await request.form()).items())
        else:
            values = msgspec.json.decode(await request.body() or b"null")
    except (msgspec.DecodeError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(values, dict):
        return {}
    return {str(k): v for k, v in values.items() if isinstance(v, str)}


@dataclass(frozen=True, slots=True, kw_only=True)
class RateRule:
    """A limit on one kind of guessing: which operations, keyed how, counting what.

    ``failures_only``: only answers with a status in 400..499 (but 429) count, so that a
    courier confirming many right codes, or a donor tracking a real gift, is never slowed;
    once at the limit every attempt is refused until the window moves on.
    """

    name: str
    guess: Guess
    limit: Limit
    key: Keyer
    failures_only: bool = False


DEFAULT_RULES: tuple[RateRule, ...] = (
    RateRule(name="login-address", guess=Guess.login, limit=Limit(30), key=by_address),
    RateRule(
        name="login-account",
        guess=Guess.login,
        limit=Limit(10),
        key=by_username,
        failures_only=True,
    ),
    RateRule(
        name="code-address",
        guess=Guess.delivery_code,
        limit=Limit(30),
        key=by_address,
        failures_only=True,
    ),
    RateRule(
        name="code-account",
        guess=Guess.delivery_code,
        limit=Limit(10),
        key=by_account,
        failures_only=True,
    ),
    RateRule(
        name="visit-address",
        guess=Guess.visit_code,
        limit=Limit(30),
        key=by_address,
        failures_only=True,
    ),
    RateRule(
        name="visit-account",
        guess=Guess.visit_code,
        limit=Limit(10),
        key=by_account,
        failures_only=True,
    ),
    RateRule(name="report-address", guess=Guess.not_received, limit=Limit(10), key=by_address),
    RateRule(
        name="track-address",
        guess=Guess.tracking_code,
        limit=Limit(30),
        key=by_address,
        failures_only=True,
    ),
)


@dataclass(frozen=True, slots=True)
class Taken:
    """One attempt counted (``token`` gives it back), or refused (``wait``: seconds to wait)."""

    token: str | None = None
    wait: float = 0.0


#: (rule, subject) pairs: the windows one attempt is counted in.
Windows = Sequence[tuple[RateRule, str]]


class Counters(Protocol):
    """Where the windows of every rule live.

    One attempt is counted in all the windows its operation's rules name at once, or in none
    (the first full one, in the rules' order, says how long to wait): one round trip to Redis
    for the attempt, one for giving it back, whatever the number of rules.
    """

    async def take(self, windows: Windows) -> Taken:
        """Count one attempt in each of ``windows``, unless one of them is full."""
        ...

    async def give_back(self, windows: Windows, token: str) -> None:
        """Forget, in each of ``windows``, an attempt that :meth:`take` counted."""
        ...


class MemoryCounters:
    """The windows in this process (one server only)."""

    def __init__(
        self, rules: tuple[RateRule, ...], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.windows = {rule.name: SlidingWindow(rule.limit) for rule in rules}

    async def take(self, windows: Windows) -> Taken:
        now = self.clock()
        for rule, key in windows:  # no await: nothing runs between the checks and the hits
            wait = self.windows[rule.name].retry_after(key, now)
            if wait is not None:
                return Taken(wait=wait)
        for rule, key in windows:
            self.windows[rule.name].hit(key, now)
        return Taken(token=now.hex())

    async def give_back(self, windows: Windows, token: str) -> None:
        for rule, key in windows:
            self.windows[rule.name].forget(key, float.fromhex(token))


# KEYS: the windows; ARGV: each window's limit, then each one's length in ms, then a member
# naming this attempt. Returns -1 when counted in every window, else the milliseconds until the
# oldest attempt leaves the first full window (nothing counted then).
TAKE_SCRIPT = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local n = #KEYS
for i = 1, n do
  local window = tonumber(ARGV[n + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ms - window)
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[i]) then
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    return math.max(1, tonumber(oldest[2]) + window - ms)
  end
end
for i = 1, n do
  redis.call('ZADD', KEYS[i], ms, ARGV[2 * n + 1])
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[n + i]))
end
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

    async def take(self, windows: Windows) -> Taken:
        token = uuid.uuid4().hex
        counts = [rule.limit.count for rule, _ in windows]
        lengths = [int(rule.limit.seconds * 1000) for rule, _ in windows]
        waited = int(
            await self._take(
                keys=[self._key(rule, key) for rule, key in windows],
                args=[*counts, *lengths, token],
            )
        )
        if waited < 0:
            return Taken(token=token)
        return Taken(wait=waited / 1000)

    async def give_back(self, windows: Windows, token: str) -> None:
        if len(windows) == 1:
            await self.redis.zrem(self._key(*windows[0]), token)
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for rule, key in windows:
                pipe.zrem(self._key(rule, key), token)
            await pipe.execute()


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
        guess = guess_of(scope)
        rules = [rule for rule in self.rules if rule.guess is guess] if guess else []
        if not rules:
            await self.app(scope, receive, send)
            return
        # Litestar's Request caches the body in the scope (the body guard has read it): the
        # handler reads the same bytes.
        request: AnyRequest = Request(scope, receive)
        keyed = [(rule, key) for rule in rules if (key := await rule.key(request)) is not None]
        token = None
        if keyed:
            counted = await self.counters.take(keyed)
            if counted.token is None:  # a window is full: counted in none
                raise _too_many(counted.wait)
            token = counted.token
        provisional = [(rule, key) for rule, key in keyed if rule.failures_only]
        if token is None or not provisional:
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
                await self.counters.give_back(provisional, token)


def _too_many(wait: float) -> TooManyRequestsException:
    """429 with ``Retry-After``: JSON for the API, the site's error page for a browser (the
    app's exception handlers, :mod:`nuanxin.responses`, decide which)."""
    seconds = max(1, math.ceil(wait))
    return TooManyRequestsException(
        detail=f"Too many attempts: try again in {seconds} seconds",
        headers={"Retry-After": str(seconds)},
    )
