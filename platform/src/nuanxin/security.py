"""Defences of the whole app: security headers on every answer, logs without secrets.

* :func:`security_headers` is a ``before_send`` hook: every response the app sends (pages, API,
  errors, static files, the admin) carries a Content-Security-Policy without inline scripts,
  ``frame-ancestors 'none'``, ``nosniff`` and a referrer policy; HSTS in production. Two places
  get a looser policy of their own: the data admin at ``/admin`` (piccolo-admin's Vue app) and
  the Swagger page at ``/schema/swagger`` (Litestar renders it with an inline script and loads
  Swagger UI from a CDN). Nothing else on the site may run inline code.
* :func:`install_log_redaction`: no ID number, phone, token or tracking code reaches a log.
* :func:`reject_unstorable`: ids beyond int4 and NUL bytes never reach the database.
* :class:`BodyGuardMiddleware`: a body is read once (no reader waits on a consumed stream) and
  JSON nested beyond :data:`MAX_JSON_DEPTH` levels is refused before any decoder recurses.

The limits on guessing (logins, delivery codes, tracking codes) are :mod:`nuanxin.limits`.
"""

from __future__ import annotations

import logging
import numbers
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from litestar import Request
from litestar.enums import RequestEncodingType, ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from nuanxin.errors import Invalid
from nuanxin.settings import Settings

__all__ = (
    "MAX_JSON_DEPTH",
    "BodyGuardMiddleware",
    "body_media_type",
    "content_security_policy",
    "install_log_redaction",
    "nested_deeper_than",
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
MOBILE = re.compile(r"(?<!\d)((?:\+?86)?1[3-9]\d)\d{4}(\d{4})(?!\d)")
BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
CODE_IN_PATH = re.compile(r"(/(?:api/track|donations)/)[^/\s?'\"]+")


def redact(text: str) -> str:
    """ID numbers, mobile numbers, bearer tokens and tracking codes in URLs, masked."""
    text = ID_NUMBER.sub(r"\1********\2", text)
    text = MOBILE.sub(r"\1****\2", text)
    text = BEARER.sub(r"\1***", text)
    return CODE_IN_PATH.sub(r"\1***", text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, numbers.Number | bytes):
        return value  # formatted with %d, %.1f ... as they are
    # anything else is logged as its text, which may hold what is masked above: a database
    # driver's debug line shows its statement's parameters (a phone among them)
    return redact(str(value))


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
MAX_JSON_DEPTH = 64  # our bodies nest a few levels; decoders recurse once per level
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # \u0000 not itself escaped
_FORMS = (RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART)
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether a JSON text opens more than ``limit`` arrays or objects inside each other.

    Decided before any decoder sees it, without recursion: brackets inside strings are
    dropped first, then the depth is counted. Cheap for ordinary bodies (few brackets).
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def body_media_type(scope: Scope) -> str | None:
    """How the resolved route handler decodes its body (``None``: it declares no body).

    Litestar decodes by the handler's declaration, not by the request's ``Content-Type``: a
    JSON handler reads any body as JSON, a form handler any body as a form.
    """
    data = getattr(scope.get("route_handler"), "parsed_data_field", None)
    if data is None:
        return None
    media_type: str = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return media_type


class BodyGuardMiddleware:
    """Reads a state-changing request's body once, before anything else, and refuses what no
    handler can take (400 with the usual body, never a 500 or a request left hanging):

    * the body is kept in the scope, so that the CSRF check, the limits and the handler all
      read the same bytes; a multipart body (which Litestar parses from the stream) is replayed
      once from memory, so a second reader never waits on a stream already consumed;
    * a body the handler decodes as JSON may nest at most :data:`MAX_JSON_DEPTH` levels.

    Placed first among the app's middleware (the router has resolved the handler by then).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or scope.get("method") not in _UNSAFE
            or not isinstance(scope.get("route_handler"), HTTPRouteHandler)  # mounts: their own
        ):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        body = await request.body()  # kept in the scope; 413 beyond the handler's limit
        if body_media_type(scope) not in _FORMS and nested_deeper_than(body, MAX_JSON_DEPTH):
            raise Invalid(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep")
        replayed = False

        async def replay() -> ReceiveMessage:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # the server's: waits for the client to go away

        await self.app(scope, replay, send)


def _nul_in_body(body: bytes, media_type: str | None) -> bool:
    """Whether a body holds a NUL byte in any spelling its handler would decode."""
    if b"\x00" in body:
        return True
    if media_type == RequestEncodingType.URL_ENCODED:
        return b"%00" in body
    if media_type is None:  # the handler reads the body itself: any spelling
        return b"%00" in body or _JSON_NUL.search(body) is not None
    return _JSON_NUL.search(body) is not None


async def reject_unstorable(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: ids the database cannot hold and NUL bytes never reach it.

    PostgreSQL refuses an id beyond int4 or a NUL byte in text with an error that would abort
    the surrounding transaction, and SQLite stores the NUL; answering 400 here keeps them
    away from the database. A body is judged as its handler decodes it, whatever the
    ``Content-Type`` (a form sent as ``text/plain`` is still read as a form). Files of a
    multipart body are the handler's to check (a CSV import refuses the row).
    """
    for name, value in request.path_params.items():
        if isinstance(value, int) and not -INT32 <= value <= INT32:
            raise Invalid(f"{name}: no record has this id", field=name)
        if isinstance(value, str) and "\x00" in value:
            raise Invalid(f"{name}: NUL bytes are not allowed", field=name)
    if request.method in _UNSAFE:
        media_type = body_media_type(request.scope)
        if media_type == RequestEncodingType.MULTI_PART:
            form = await request.form()  # cached: the handler reads the same form
            for key, value in form.multi_items():
                if isinstance(value, str) and "\x00" in value:
                    raise Invalid(f"{key}: NUL bytes are not allowed", field=key)
        elif _nul_in_body(await request.body(), media_type):  # kept for the handler
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
