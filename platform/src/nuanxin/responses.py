"""How the app answers a refusal: every 4xx is JSON of one shape, ``{"error", "detail", "field"}``.

Services raise the plain errors of :mod:`nuanxin.errors`; :data:`STATUS` gives each kind its
HTTP status here, the one place that knows it.

``error`` is a stable machine word (``validation_error``, ``not_found`` ...), ``detail`` a
sentence for people, ``field`` the offending field when there is one (else ``null``).

A browser (``Accept: text/html``, outside ``/api/`` and ``/schema``) gets the same status as an
HTML page of the site in its reader's language instead (:func:`nuanxin.web.error_page`); one
that is not logged in is sent to the login page.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import msgspec
from asyncpg.exceptions import DataError, IntegrityConstraintViolationError
from litestar import Litestar, MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from nuanxin import web
from nuanxin.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    Locked,
    NotAuthenticated,
    NotFound,
    TooLarge,
    Unavailable,
    Upstream,
)

__all__ = (
    "STATUS",
    "ErrorBody",
    "document_on_every_operation",
    "error_responses",
    "exception_handlers",
    "status_of",
)

logger = logging.getLogger("nuanxin")
_SQLITE_CONSTRAINT = re.compile(r"(?:constraint failed|CONSTRAINT): ([\w.]+)")
_NAMED_FIELD = re.compile(r"(?:field|at) `\$?\.?([^`]+)`|parameter '([^']+)'")

ERROR_WORDS = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
}


class ErrorBody(msgspec.Struct, kw_only=True):
    """The body of every error answer."""

    error: str
    detail: str
    field: str | None = None


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the 4xx answers of a handler, with their real body (``responses=``).

    ``raises=[...]`` would document Litestar's own error shape; this documents each status with
    :class:`ErrorBody`.
    """
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=HTTPStatus(status).phrase, generate_examples=False
        )
        for status in statuses
    }


def document_on_every_operation(app: Litestar, *statuses: int) -> None:
    """Add answers any operation may give to every operation of the schema.

    401: a bearer token that is invalid, revoked or expired is refused on every route, public
    ones included (:class:`nuanxin.accounts.security.NuanxinAuthMiddleware`).
    """
    extra = error_responses(*statuses)
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.include_in_schema:
                handler.responses = {**extra, **(handler.responses or {})}


#: The HTTP status of each kind of domain error (the one place that maps them).
STATUS: dict[type[DomainError], int] = {
    Invalid: 400,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    Locked: 423,
    Upstream: 502,
    Unavailable: 503,
}


def status_of(exc: DomainError) -> int:
    """The HTTP status that answers a domain error (its nearest kind in :data:`STATUS`)."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 409


def _json(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(
        content=msgspec.to_builtins(body),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _field_of(extra: Any) -> tuple[str | None, str | None]:
    """The first offending field and its message from Litestar's validation ``extra``."""
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        first = extra[0]
        key = first.get("key")
        message = first.get("message")
        field = str(key) if key else None
        if field is not None and field.startswith("$."):
            field = field[2:]
        named = _NAMED_FIELD.search(str(message or ""))
        if named and field in (None, "data", "body"):
            field = named.group(1) or named.group(2)
        return field, None if message is None else str(message)
    return None, None


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


JSON_PREFIXES = ("/api/", "/schema", "/admin")


def _browser(request: Request[Any, Any, Any]) -> bool:
    """A person's browser on a page (not the JSON API): it reads errors as pages."""
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(JSON_PREFIXES)


def validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    field, message = _field_of(exc.extra)
    if _browser(request):  # the page names the field by its label, in the reader's language
        return web.error_page(request, 400, Invalid(exc.detail or "", field=field))
    detail = message or exc.detail or "The request is not valid"
    named = None if field else _NAMED_FIELD.search(detail)
    if named:  # e.g. "Missing required query parameter 'q'"
        field = named.group(1) or named.group(2)
    if field and field not in detail:
        detail = f"{field}: {detail}"
    return _json(400, ErrorBody(error="validation_error", detail=detail, field=field))


def http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 401 and _wants_html(request):
        # A browser that is not logged in goes to the login page, and comes back after.
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
        return Redirect(f"/login?next={quote(path)}", status_code=303)
    if status >= 500:
        logger.error("HTTP %s: %s", status, exc.detail)
        if _browser(request):
            return web.error_page(request, status)
        return _json(status, ErrorBody(error="server_error", detail="Internal server error"))
    if status != 401 and _browser(request):
        page = web.error_page(request, status)
        page.headers.update(exc.headers or {})
        return page
    field, message = _field_of(exc.extra)
    return _json(
        status,
        ErrorBody(
            error=ERROR_WORDS.get(status, "error"),
            detail=message if message and not exc.detail else str(exc.detail),
            field=field,
        ),
        headers=exc.headers,
    )


def domain_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    status = status_of(exc)
    if status != 401 and _browser(request):
        return web.error_page(request, status, exc)
    return _json(status, ErrorBody(error=exc.error, detail=exc.detail, field=exc.field))


def integrity_handler(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A database rule refused a write that a service's own check let through (a race).

    Two requests creating the same unique thing at once both pass the service's "does it
    exist?" check; the database's unique constraint refuses the second. That is a conflict
    (409), not a server error. Only the constraint's name is shown, never the row's values.
    """
    constraint = getattr(exc, "constraint_name", None)
    if constraint is None:
        match = _SQLITE_CONSTRAINT.search(str(exc))
        constraint = match.group(1) if match else None
    detail = "The request conflicts with a record saved at the same moment; try again"
    return _json(
        409,
        ErrorBody(
            error="conflict", detail=detail if not constraint else f"{detail} ({constraint})"
        ),
    )


def server_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _browser(request):
        return _error_page_or_json(request)
    return _json(
        HTTP_500_INTERNAL_SERVER_ERROR,
        ErrorBody(error="server_error", detail="Internal server error"),
    )


def _error_page_or_json(request: Request[Any, Any, Any]) -> Response[Any]:
    """The 500 page; should the page itself fail (a broken template), the plain JSON answer."""
    try:
        page = web.error_page(request, 500)
        page.to_asgi_response(app=None, request=request)  # rendered here: it cannot fail later
    except Exception:
        logger.exception("The error page failed on %s", request.url.path)
        return _json(
            HTTP_500_INTERNAL_SERVER_ERROR,
            ErrorBody(error="server_error", detail="Internal server error"),
        )
    return page


def unstorable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A value the database cannot hold (an integer beyond 64 bits, a NUL byte in text on
    PostgreSQL) is the client's mistake: 400, and the transaction has rolled back."""
    logger.warning(  # the error's text may quote the value: only its kind is logged
        "Unstorable value on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    return _json(
        400,
        ErrorBody(
            error="validation_error",
            detail="A value is out of range or not valid text (numbers, NUL bytes)",
        ),
    )


def too_deep_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A value nested too deep for a decoder (the body guard refuses deep JSON before; this
    catches any other way in): the client's mistake, 400."""
    logger.warning("Too deeply nested input on %s %s", request.method, request.url.path)
    return _json(400, ErrorBody(error="validation_error", detail="The input is nested too deeply"))


exception_handlers: dict[type[Exception] | int, Any] = {
    RecursionError: too_deep_handler,
    OverflowError: unstorable_handler,  # SQLite: integers beyond 64 bits
    DataError: unstorable_handler,  # PostgreSQL: out-of-range numbers, NUL bytes, bad text
    sqlite3.IntegrityError: integrity_handler,
    IntegrityConstraintViolationError: integrity_handler,
    ValidationException: validation_handler,
    DomainError: domain_handler,
    HTTPException: http_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: server_error_handler,
}
