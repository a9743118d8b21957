"""What every HTML page shares: the language, the user, formatting, flash messages, errors.

Pages are controllers like the API's (class-level path and guards) whose handlers call the same
services and answer a :class:`Template` through :func:`page`. A rule the service refuses
(:class:`DomainError`) or a form that does not validate comes back as a form message
(:func:`form_error`), never a 500; a successful post redirects (:func:`done`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request
from litestar.datastructures import Cookie
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from nuanxin import i18n
from nuanxin.errors import DomainError, Forbidden, NotAuthenticated, NotFound
from nuanxin.identity import CurrentUser, Role

__all__ = (
    "FLASH_KEY",
    "PageController",
    "done",
    "form_error",
    "gettext_for",
    "language_of",
    "page",
    "user_of",
)

FLASH_KEY = "flash"
AnyRequest = Request[Any, Any, Any]


class PageController(Controller):
    """The base of every page controller: out of the API schema, HTMX-aware requests."""

    include_in_schema = False
    request_class = HTMXRequest


def language_of(request: AnyRequest) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def gettext_for(request: AnyRequest) -> Any:
    return i18n.catalogue(language_of(request)).gettext


def user_of(request: AnyRequest) -> CurrentUser | None:
    user = request.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


NAV: Mapping[Role | None, tuple[tuple[str, str], ...]] = {
    None: (("/dashboard", "Where aid went"), ("/track", "Track a gift"), ("/give", "Give")),
    Role.staff: (
        ("/staff", "Progress"),
        ("/staff/households", "Households"),
        ("/staff/help-requests", "Help requests"),
        ("/staff/rounds", "Matching"),
        ("/staff/deliveries", "Deliveries"),
        ("/staff/emergencies", "Emergencies"),
        ("/staff/escalations", "Case by case"),
    ),
    Role.charity: (
        ("/charity", "Stock"),
        ("/charity/offers/new", "Post an offer"),
        ("/charity/deliveries", "Deliveries"),
        ("/courier", "Courier"),
    ),
    Role.courier: (("/courier", "Courier"),),
}
NAV = {**NAV, Role.admin: NAV[Role.staff] + (("/admin/", "Admin"),)}


def _switch_url(request: AnyRequest, language: str) -> str:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    query["lang"] = language
    return f"{request.url.path}?{urlencode(query)}"


def page(
    request: AnyRequest,
    template_name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Template:
    """A page in the request's language, with what the layout needs."""
    language = language_of(request)
    gettext = i18n.catalogue(language).gettext
    user = user_of(request)
    flash = None
    if "session" in request.scope and request.session.get(FLASH_KEY):
        flash = request.session.pop(FLASH_KEY)
    other = "en" if language == i18n.DEFAULT else i18n.DEFAULT
    cookies = []
    if request.query_params.get("lang"):
        cookies.append(
            Cookie(key=i18n.COOKIE, value=language, max_age=365 * 86400, samesite="lax", path="/")
        )
    return Template(
        template_name=template_name,
        context={
            "_": gettext,
            "lang": language,
            "other_lang": other,
            "other_lang_name": "English" if other == "en" else "中文",
            "switch_url": _switch_url(request, other),
            "fmt": i18n.Formatter(language),
            "user": user,
            "nav": NAV.get(user.role if user else None, NAV[None]),
            "path": request.url.path,
            "flash": flash,
            "tile_url": request.app.state.settings.map_tile_url,
            **(context or {}),
        },
        status_code=status_code,
        cookies=cookies,
    )


ACCESS_REFUSALS = (NotAuthenticated, Forbidden, NotFound)


def form_error(request: AnyRequest, exc: Exception) -> str:
    """A refusal as a sentence for the form (the field named when there is one).

    A refusal of access (401, 403, 404: wrong role, another jurisdiction or charity) is not a
    form message: it is raised again, so that the page answers as the API does.
    """
    _ = gettext_for(request)
    if isinstance(exc, ACCESS_REFUSALS):
        raise exc
    if isinstance(exc, DomainError):
        field = f" ({exc.field})" if exc.field else ""
        return str(_("Not done")) + f"{field}: {exc.detail}"
    if isinstance(exc, msgspec.ValidationError):
        return str(_("Please check the form")) + f": {exc}"
    return str(_("Please check the form"))


def done(request: AnyRequest, message: str, target: str) -> Redirect:
    """Redirect after a successful post, with a message for the next page."""
    request.session[FLASH_KEY] = message
    return Redirect(target, status_code=303)
