"""Defences of the whole app: security headers on every answer, limits on guessing.

* :func:`security_headers` is a ``before_send`` hook: every response the app sends (pages, API,
  errors, static files, the admin) carries a Content-Security-Policy without inline scripts,
  ``frame-ancestors 'none'``, ``nosniff`` and a referrer policy; HSTS in production. Two places
  get a looser policy of their own: the data admin at ``/admin`` (piccolo-admin's Vue app) and
  the Swagger page at ``/schema/swagger`` (Litestar renders it with an inline script and loads
  Swagger UI from a CDN). Nothing else on the site may run inline code.
* :class:`RateLimitMiddleware` limits guessing: logins per account and per client address,
  delivery codes per account and per address, the public not-received report and donation
  tracking codes per address. An answer over the limit is a 429 with a JSON body and
  ``Retry-After``. Counters live in the process (one set per worker): with N workers an
  address gets at most N times the limit.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from nuanxin.errors import Invalid
from nuanxin.settings import Settings

__all__ = (
    "DEFAULT_RULES",
    "Limit",
    "RateLimitMiddleware",
    "RateLimiter",
    "RateRule",
    "SlidingWindow",
    "content_security_policy",
    "install_log_redaction",
    "redact",
    "reject_unstorable",
    "security_headers",
)

STRIPE_JS = "https://js.stripe.com"
STRIPE_FRAMES = "https://js.stripe.com https://hooks.stripe.com"
STRIPE_API = "https://api.stripe.com"


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL (template placeholders such as ``{z}`` kept out)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    """The site's policy: scripts and styles from the site itself and Stripe.js only."""
    tiles = _origin(settings.map_tile_url)
    stripe_local = _origin(settings.stripe_api_base)  # a local Stripe stand-in serves its own JS
    script = " ".join(filter(None, ("'self'", STRIPE_JS, stripe_local)))
    frames = " ".join(filter(None, (STRIPE_FRAMES, stripe_local)))
    connect = " ".join(filter(None, ("'self'", STRIPE_API, stripe_local)))
    images = " ".join(filter(None, ("'self'", "data:", tiles)))
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script}",
            "style-src 'self'",
            f"img-src {images}",
            f"connect-src {connect}",
            f"frame-src {frames}",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


ADMIN_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
SWAGGER_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = (
    f"default-src 'self'; script-src 'self' 'unsafe-inline' {SWAGGER_CDN}; "
    f"style-src 'self' 'unsafe-inline' {SWAGGER_CDN}; img-src 'self' data: {SWAGGER_CDN}; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(settings: Settings) -> Callable[[Message, Scope], Any]:
    """A ``before_send`` hook adding the security headers to every HTTP response."""
    site_policy = content_security_policy(settings).encode()
    common = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin-allow-popups"),
    ]
    if settings.is_production:
        common.append((b"strict-transport-security", HSTS.encode()))

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        raw = scope.get("raw_path")  # mounted apps (the admin) see their own "path"
        path = raw.decode("latin-1") if isinstance(raw, bytes) else str(scope.get("path", ""))
        if path == "/admin" or path.startswith("/admin/"):
            policy = ADMIN_POLICY.encode()
        elif path.startswith("/schema/swagger"):
            policy = DOCS_POLICY.encode()
        else:
            policy = site_policy
        headers = list(message.get("headers") or [])
        present = {name.lower() for name, _ in headers}
        additions = [(b"content-security-policy", policy), *common]
        if path.startswith("/api/"):
            additions.append((b"cache-control", b"no-store"))
        headers.extend((name, value) for name, value in additions if name not in present)
        message["headers"] = headers

    return hook


ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
CODE_IN_PATH = re.compile(r"(/(?:api/track|donations)/)[^/\s?'\"]+")


def redact(text: str) -> str:
    """ID numbers, mobile numbers, bearer tokens and tracking codes in URLs, masked."""
    text = ID_NUMBER.sub(r"\1********\2", text)
    text = MOBILE.sub(r"\1****\2", text)
    text = BEARER.sub(r"\1***", text)
    return CODE_IN_PATH.sub(r"\1***", text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


_REDACTING = "nuanxin_redacting"


def install_log_redaction() -> None:
    """Every log record of the process is redacted as it is made (idempotent).

    A record factory rather than a handler filter: it covers loggers and handlers configured
    later (uvicorn's access log prints request paths, which hold tracking codes). Arguments
    are redacted one by one, so formatters that unpack them (uvicorn's) keep working.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, _REDACTING, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        record.msg = _redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(arg) for key, arg in record.args.items()}
        return record

    setattr(factory, _REDACTING, True)
    logging.setLogRecordFactory(factory)


INT32 = 2**31 - 1  # every id is a serial (int4 on PostgreSQL)
NUL_IN_BODY = {"application/json": b"\\u0000", "application/x-www-form-urlencoded": b"%00"}


async def reject_unstorable(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: ids the database cannot hold and NUL bytes never reach it.

    PostgreSQL refuses an id beyond int4 or a NUL byte in text with an error that would abort
    the surrounding transaction; answering 400 here keeps such requests away from the database.
    """
    for name, value in request.path_params.items():
        if isinstance(value, int) and not -INT32 <= value <= INT32:
            raise Invalid(f"{name}: no record has this id", field=name)
        if isinstance(value, str) and "\x00" in value:
            raise Invalid(f"{name}: NUL bytes are not allowed", field=name)
    if request.method in ("POST", "PUT", "PATCH"):
        content_type = request.headers.get("content-type", "")
        marker = NUL_IN_BODY.get(content_type.split(";")[0].strip().lower())
        if marker is not None and marker in await request.body():  # kept for the handler
            raise Invalid("NUL bytes are not allowed in text")
    for key, value in request.query_params.items():
        if "\x00" in key or "\x00" in value:
            raise Invalid(f"{key}: NUL bytes are not allowed", field=key)
        if key == "id" or key.endswith("_id"):
            try:
                number = int(value)
            except ValueError:
                continue  # validation names the field
            if not -INT32 <= number <= INT32:
                raise Invalid(f"{key}: no record has this id", field=key)


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
CONFIRM_PATH = re.compile(r"^/api/deliveries/\d+/confirm/?$")
REPORT_PATH = re.compile(r"^/api/delivery-reports/?$")
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


class RateLimiter:
    """The counters of every rule, shared by all routes of one app (one per process)."""

    def __init__(
        self,
        rules: tuple[RateRule, ...] = DEFAULT_RULES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rules = rules
        self.clock = clock
        self.windows = {rule.name: SlidingWindow(rule.limit) for rule in rules}


class RateLimitMiddleware:
    """Refuses attempts beyond the limiter's rules with 429 (JSON body, ``Retry-After``).

    Placed after authentication, so that per-account rules know the caller. Litestar builds
    one middleware per route: the counters live in the shared :class:`RateLimiter`.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.rules = limiter.rules
        self.clock = limiter.clock
        self.windows = limiter.windows

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
        now = self.clock()
        keyed = [(rule, key) for rule in rules if (key := rule.key(scope, form)) is not None]
        waits = [
            wait
            for rule, key in keyed
            if (wait := self.windows[rule.name].retry_after(key, now)) is not None
        ]
        if waits:
            await _too_many(send, max(waits))
            return
        for rule, key in keyed:
            if not rule.failures_only:
                self.windows[rule.name].hit(key, now)
        failure_rules = [(rule, key) for rule, key in keyed if rule.failures_only]
        if not failure_rules:
            await self.app(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and 400 <= message["status"] < 500:
                for rule, key in failure_rules:
                    self.windows[rule.name].hit(key, self.clock())
            await send(message)

        await self.app(scope, receive, watch)


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
