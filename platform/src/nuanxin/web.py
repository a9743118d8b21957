"""What every HTML page shares: the language, the user, formatting, flash messages, errors.

Pages are controllers like the API's (class-level path and guards) whose handlers call the same
services and answer a :class:`Template` through :func:`page`. A rule the service refuses
(:class:`DomainError`) or a form that does not validate comes back as a form message
(:func:`form_error`) in the reader's language (:mod:`nuanxin.messages`), never a 500; a
successful post redirects (:func:`done`). A refusal of access, or any error a page does not
catch, answers a browser with an HTML page of the site (:func:`error_page`).

The templates name codes through filters (:func:`install_filters`): ``item_label``,
``category_label``, ``tag_label``, ``status_label("delivery")``. Public pages know the logged-in
user too (:class:`SessionUserMiddleware`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import msgspec
from jinja2 import pass_context
from jinja2.runtime import Context
from litestar import Controller, Request
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.plugins.htmx import HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send

from nuanxin import i18n, labels, messages
from nuanxin.accounts.security import SESSION_USER_KEY, user_by_id
from nuanxin.errors import DomainError, Forbidden, NotAuthenticated, NotFound
from nuanxin.identity import CurrentUser, Role

__all__ = (
    "FLASH_KEY",
    "PageController",
    "SessionUserMiddleware",
    "done",
    "error_page",
    "form_error",
    "gettext_for",
    "install_filters",
    "item_label",
    "language_of",
    "page",
    "status_label",
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


def item_label(request: AnyRequest, code: object) -> str:
    """An item or item kind in the request's words (for labels built in a handler: charts,
    map markers), as the templates' ``item_label`` filter says it."""
    language = language_of(request)
    return labels.item_label(code, language, i18n.catalogue(language).gettext)


def status_label(request: AnyRequest, code: object, vocabulary: str) -> str:
    """A status in the request's words, as the templates' ``status_label`` filter says it."""
    return labels.status_label(code, vocabulary, gettext_for(request))


def user_of(request: AnyRequest) -> CurrentUser | None:
    user = request.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


NAV: Mapping[Role | None, tuple[tuple[str, str], ...]] = {
    None: (
        ("/dashboard", "Where aid went"),
        ("/track", "Track a gift"),
        ("/give", "Give"),
        ("/help", i18n.N_("Report someone in difficulty")),
    ),
    Role.staff: (
        ("/staff", "Progress"),
        ("/staff/households", "Households"),
        ("/staff/households/new", i18n.N_("Register a household")),
        ("/staff/locations", i18n.N_("Couriers' points")),
        ("/staff/help-requests", "Help requests"),
        ("/staff/hotline", i18n.N_("Hotline call")),
        ("/staff/rounds", "Matching"),
        ("/staff/deliveries", "Deliveries"),
        ("/staff/cases", i18n.N_("Not received")),
        ("/staff/offline-reviews", i18n.N_("Codes typed offline")),
        ("/staff/emergencies", "Emergencies"),
        ("/staff/safety", i18n.N_("Heating safety")),
        ("/staff/notifications", i18n.N_("Failed notifications")),
        ("/staff/escalations", "Case by case"),
        ("/staff/charities", i18n.N_("Charities")),
        ("/staff/audit", i18n.N_("Audit trail")),
    ),
    Role.charity: (
        ("/charity", "Stock"),
        ("/charity/offers/new", "Post an offer"),
        ("/charity/warehouses", i18n.N_("Warehouses")),
        ("/charity/donations", i18n.N_("Gifts received")),
        ("/charity/campaigns", i18n.N_("Campaigns")),
        ("/charity/advice", "What to buy"),
        ("/charity/deliveries", "Deliveries"),
        ("/courier/routes", i18n.N_("Route for the day")),
        ("/charity/members", i18n.N_("Members and couriers")),
        ("/courier", "Courier"),
    ),
    Role.courier: (("/courier", "Courier"), ("/courier/routes", i18n.N_("Route for the day"))),
}
NAV = {
    **NAV,
    Role.admin: NAV[Role.staff]
    + (("/staff/accounts", i18n.N_("Staff accounts")), ("/admin/", "Admin")),
}


#: The links that fold under "More" on a wide screen, so that a role's header stays one or two
#: lines; on a phone every link is in the menu's one column.
NAV_MORE = frozenset(
    {
        "/staff/households/new",
        "/staff/locations",
        "/staff/hotline",
        "/staff/offline-reviews",
        "/staff/emergencies",
        "/staff/notifications",
        "/staff/escalations",
        "/staff/charities",
        "/staff/audit",
        "/staff/accounts",
        "/admin/",
        "/charity/advice",
        "/courier/routes",
        "/charity/members",
        "/courier",
    }
)


def _nav(user: CurrentUser | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A role's links: those always shown, and those under "More" (none for couriers)."""
    links = NAV.get(user.role if user else None, NAV[None])
    if len(links) <= 4:
        return list(links), []
    return (
        [link for link in links if link[0] not in NAV_MORE],
        [link for link in links if link[0] in NAV_MORE],
    )


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
    nav, nav_more = _nav(user)
    return Template(
        template_name=template_name,
        context={
            "_": gettext,
            "lang": language,
            "other_lang": other,
            "other_lang_name": "English" if other == "en" else "中文",
            "switch_url": _switch_url(request, other),
            "fmt": i18n.Formatter(language, _timezone(request)),
            "user": user,
            "nav": nav,
            "nav_more": nav_more,
            "path": request.url.path,
            "flash": flash,
            "tile_url": getattr(request.app.state.get("settings"), "map_tile_url", ""),
            **(context or {}),
        },
        status_code=status_code,
        cookies=cookies,
    )


def _timezone(request: AnyRequest) -> str:
    settings = request.app.state.get("settings")
    return str(getattr(settings, "timezone", i18n.DEFAULT_TIMEZONE))


ACCESS_REFUSALS = (NotAuthenticated, Forbidden, NotFound)


def form_error(request: AnyRequest, exc: Exception) -> str:
    """A refusal as a sentence for the form, in the request's language.

    The sentence comes from the error's message id and params; a field is named by its label.
    A refusal of access (401, 403, 404: wrong role, another jurisdiction or charity) is not a
    form message: it is raised again, so that the page answers as the API does (an HTML page
    for a browser).
    """
    _ = gettext_for(request)
    if isinstance(exc, ACCESS_REFUSALS):
        raise exc
    if isinstance(exc, DomainError):
        return str(_("Not done")) + str(_(": ")) + messages.describe(exc, _)
    if isinstance(exc, msgspec.ValidationError):
        problem = messages.describe_invalid_form(exc, _)
        return str(_("Please check the form")) + str(_(": ")) + problem
    return str(_("Please check the form"))


#: The heading of an error page, by HTTP status.
ERROR_TITLES: Mapping[int, str] = {
    400: i18n.N_("Please check the form"),
    403: i18n.N_("You may not open this page"),
    404: i18n.N_("Page not found"),
    405: i18n.N_("This page does not take that request"),
    409: i18n.N_("Not done"),
    413: i18n.N_("Too large"),
    423: i18n.N_("Locked"),
    429: i18n.N_("Too many requests: wait a minute"),
    500: i18n.N_("Something went wrong on our side"),
}
ERROR_HINTS: Mapping[int, str] = {
    403: i18n.N_(
        "Your account has no access to this page. Log in with another account, or go back."
    ),
    404: i18n.N_("There is no such page, or it is not one your account may see."),
    429: i18n.N_(
        "Too many attempts in a short time. Wait a minute, then try again; if you need help,"
        " call the hotline."
    ),
    500: i18n.N_("The error is logged. Try again in a moment; if it persists, call the hotline."),
}


def error_page(request: AnyRequest, status: int, exc: Exception | None = None) -> Template:
    """An error as a page of the site, with its header, in the reader's language."""
    _ = gettext_for(request)
    title = ERROR_TITLES.get(status) or ERROR_TITLES[500 if status >= 500 else 400]
    message = None
    if isinstance(exc, DomainError):
        message = messages.describe(exc, _)
    elif status in ERROR_HINTS:
        message = _(ERROR_HINTS[status])
    return page(
        request,
        "error.html.j2",
        {"status": status, "title": _(title), "message": message},
        status_code=status,
    )


# -- template filters ----------------------------------------------------------------------


def _language(context: Context) -> str:
    return str(context.get("lang") or i18n.DEFAULT)


def _gettext(context: Context) -> Any:
    return i18n.catalogue(_language(context)).gettext


@pass_context
def _item_label(context: Context, code: object) -> str:
    return labels.item_label(code, _language(context), _gettext(context))


@pass_context
def _item_unit(context: Context, code: object) -> str:
    return labels.item_unit(code, _gettext(context))


@pass_context
def _quantity(context: Context, count: object, code: object) -> str:
    return labels.quantity_text(count, code, _language(context), _gettext(context))


@pass_context
def _category_label(context: Context, code: object) -> str:
    return labels.category_label(code, _gettext(context))


@pass_context
def _tag_label(context: Context, code: object) -> str:
    return labels.tag_label(code, _gettext(context))


@pass_context
def _status_label(context: Context, code: object, vocabulary: str) -> str:
    return labels.status_label(code, vocabulary, _gettext(context))


PROPOSAL_REASON = i18n.N_(
    "%(km)s km from the charity's warehouse (delivery radius %(radius)s km); priority %(priority)s"
)


@pass_context
def _proposal_reason(context: Context, proposal: Any) -> str:
    """Why the engine proposed it, in the reader's words, from the proposal's data (never the
    engine's bilingual sentence)."""
    formatter = context.get("fmt")
    if not isinstance(formatter, i18n.Formatter):
        formatter = i18n.Formatter(_language(context))
    figures = {
        "km": formatter.number(round(float(proposal.distance_km), 1)),
        "radius": formatter.number(round(float(proposal.radius_km), 1)),
        "priority": formatter.number(round(float(proposal.priority), 2)),
    }
    return str(_gettext(context)(PROPOSAL_REASON) % figures)


def install_filters(engine: JinjaTemplateEngine) -> None:
    """The filters that name codes in the reader's words (``TemplateConfig.engine_callback``)."""
    engine.engine.filters.update(
        item_label=_item_label,
        item_unit=_item_unit,
        quantity=_quantity,
        category_label=_category_label,
        tag_label=_tag_label,
        status_label=_status_label,
        proposal_reason=_proposal_reason,
    )


# -- the user of public pages --------------------------------------------------------------


class SessionUserMiddleware(ASGIMiddleware):
    """Public pages (``exclude_from_auth=True``) still know the session's user, when there is
    one: the authentication middleware skips them, so this reads the session without requiring
    it. API routes are left alone (they authenticate or are public on purpose)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if "user" not in scope and not scope["path"].startswith(("/api/", "/static/", "/schema")):
            session = scope.get("session")
            user_id = session.get(SESSION_USER_KEY) if isinstance(session, dict) else None
            if isinstance(user_id, int):
                user = await user_by_id(user_id)
                if user is not None:
                    scope["user"] = user
        await next_app(scope, receive, send)


def done(request: AnyRequest, message: str, target: str) -> Redirect:
    """Redirect after a successful post, with a message for the next page."""
    request.session[FLASH_KEY] = message
    return Redirect(target, status_code=303)
