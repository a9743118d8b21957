"""The composition root: ``create_app()`` lists controllers, plugins, templates and the admin."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Controller, Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import Cookie, MutableScopeHeaders, State
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, HTTPSendMessage, Receive, Scope, Send
from piccolo.engine.postgres import PostgresEngine

from nuanxin import __version__
from nuanxin.accounts.controllers import (
    AccountController,
    AuthController,
    OrganizationController,
)
from nuanxin.accounts.organization_pages import (
    AccountPages,
    CharityMemberPages,
    SignUpPages,
    StaffCharityPages,
)
from nuanxin.accounts.pages import LoginPage
from nuanxin.accounts.security import NuanxinAuthMiddleware, RotatingSessionBackend
from nuanxin.admin import admin_mount
from nuanxin.advice.controllers import AdviceController, RoundWhatIfController
from nuanxin.advice.pages import AdvicePages, RoundWhatIfPages
from nuanxin.audit.controllers import AuditController
from nuanxin.audit.pages import AuditPages
from nuanxin.db import configure, engine
from nuanxin.deliveries.case_pages import NotReceivedPages, StaffCasePages
from nuanxin.deliveries.controllers import (
    DeliveryController,
    DeliveryReportController,
    EmergencyController,
    OfflineReviewController,
    ProgressController,
    VisitController,
)
from nuanxin.deliveries.offline_pages import CourierWorkerPage, StaffOfflineReviewPages
from nuanxin.deliveries.pages import CharityDeliveryPages, CourierPages, StaffDeliveryPages
from nuanxin.deliveries.visit_pages import StaffVisitPages
from nuanxin.donations.charity_pages import CharityCampaignPages, CharityDonationPages
from nuanxin.donations.controllers import (
    CampaignController,
    DonationController,
    PublicDonationController,
    StripeWebhookController,
)
from nuanxin.donations.pages import CampaignPages, DonationPages, PublicPages
from nuanxin.export_pages import ExportPages
from nuanxin.guards import current_user
from nuanxin.help_requests.controllers import HelpRequestController, PublicHelpRequestController
from nuanxin.help_requests.pages import HelpRequestPages
from nuanxin.help_requests.report_pages import HotlinePages, PublicHelpPages
from nuanxin.households.controllers import EscalationController, HouseholdController
from nuanxin.households.form_pages import HouseholdFormPages
from nuanxin.households.location_controllers import (
    HouseholdPinController,
    LocationSuggestionController,
)
from nuanxin.households.location_pages import LocationPages
from nuanxin.households.pages import EscalationPages, HouseholdPages
from nuanxin.jobs.worker import embedded_worker
from nuanxin.limits import RateLimitMiddleware
from nuanxin.notifications.controllers import NotificationController, VisitScheduleController
from nuanxin.notifications.opt_out import OptOutPages
from nuanxin.notifications.pages import StaffNotificationPages, StaffVisitSchedulePages
from nuanxin.offers.controllers import ItemController, OfferController
from nuanxin.offers.pages import CharityPages
from nuanxin.pages import HomePage
from nuanxin.regions.controllers import OutlineController, RegionController
from nuanxin.regions.pages import RegionPages
from nuanxin.responses import document_on_every_operation, exception_handlers
from nuanxin.rounds.controllers import RoundController
from nuanxin.rounds.pages import RoundPages
from nuanxin.rounds.retry_pages import RoundRetryPages
from nuanxin.routes.controllers import RouteController
from nuanxin.routes.pages import RoutePages
from nuanxin.safety.controllers import SafetyCheckController, SafetyFollowUpController
from nuanxin.safety.pages import StaffSafetyPages
from nuanxin.security import (
    BodyGuardMiddleware,
    install_log_redaction,
    reject_unstorable,
    security_headers,
)
from nuanxin.settings import ROOT, Settings
from nuanxin.stores import shared_state
from nuanxin.system.controllers import HealthController
from nuanxin.warehouses.controllers import OrganizationWarehouseController, WarehouseController
from nuanxin.warehouses.pages import WarehousePages
from nuanxin.web import SessionUserMiddleware, install_filters

#: The JSON API, area by area (the order of the OpenAPI document).
API_CONTROLLERS: tuple[type[Controller], ...] = (
    HealthController,
    AuthController,
    AccountController,
    OrganizationController,
    OrganizationWarehouseController,
    WarehouseController,
    HouseholdController,
    HouseholdPinController,
    LocationSuggestionController,
    EscalationController,
    PublicHelpRequestController,
    HelpRequestController,
    ItemController,
    OfferController,
    AdviceController,
    RoundWhatIfController,
    RoundController,
    DeliveryController,
    DeliveryReportController,
    EmergencyController,
    VisitController,
    VisitScheduleController,
    NotificationController,
    RouteController,
    OfflineReviewController,
    ProgressController,
    CampaignController,
    DonationController,
    PublicDonationController,
    StripeWebhookController,
    AuditController,
    OutlineController,
    RegionController,
    SafetyFollowUpController,
    SafetyCheckController,
)

#: The HTML pages, over the same services (never over the API).
PAGES: tuple[type[Controller], ...] = (
    HomePage,
    LoginPage,
    RegionPages,
    SignUpPages,
    StaffCharityPages,
    CharityMemberPages,
    AccountPages,
    PublicHelpPages,
    HotlinePages,
    NotReceivedPages,
    StaffCasePages,
    StaffOfflineReviewPages,
    StaffNotificationPages,
    StaffVisitSchedulePages,
    OptOutPages,
    AuditPages,
    ExportPages,
    HouseholdPages,
    HouseholdFormPages,
    LocationPages,
    EscalationPages,
    HelpRequestPages,
    CharityPages,
    WarehousePages,
    CharityCampaignPages,
    CharityDonationPages,
    AdvicePages,
    RoundWhatIfPages,
    RoundPages,
    RoundRetryPages,
    StaffDeliveryPages,
    StaffVisitPages,
    CharityDeliveryPages,
    CourierPages,
    CourierWorkerPage,
    StaffSafetyPages,
    RoutePages,
    DonationPages,
    CampaignPages,
    PublicPages,
)


__all__ = ("create_app",)

logger = logging.getLogger("nuanxin")

SESSION_COOKIE = "nuanxin_session"
CSRF_COOKIE = "nuanxin_csrf"  # not piccolo-admin's "csrftoken" (they would clash at "/")
CSRF_HEADER = "x-nuanxin-csrf"


class SessionConfig(ServerSideSessionConfig):
    """Server-side sessions whose id changes at login."""

    _backend_class = RotatingSessionBackend


#: Where a browser starts a session: a forged login would sign the victim in as the forger.
LOGIN_PATHS = frozenset({"/login", "/api/auth/login"})

CSRF_RULE = (
    "CSRF protects ambient credentials. A state-changing request (POST, PUT, PATCH, DELETE) "
    f"that carries the session cookie `{SESSION_COOKIE}` must echo the `{CSRF_COOKIE}` cookie "
    f"in the `{CSRF_HEADER}` header (or a `_csrf_token` form field); so must the two logins "
    "that start a session (`/login`, `/api/auth/login`). A request without the session cookie "
    "(an API client with a bearer token, or anonymous, on a public endpoint) needs no CSRF "
    "token: a browser cannot be made to send a credential it does not hold. A bearer token "
    "that is invalid, revoked or expired answers 401 on every route, public ones included."
)


#: A CSRF token: a random hex secret and its hex HMAC (Litestar's ``generate_csrf_token``).
CSRF_TOKEN_LENGTH = 2 * CSRF_SECRET_LENGTH


class AmbientCSRFMiddleware(CSRFMiddleware):
    """CSRF protection where a browser's ambient credential could be abused (:data:`CSRF_RULE`).

    A request with an ``Authorization`` header (an API client's bearer token; a browser never
    adds that header by itself) passes untouched: nothing in it could be forged, and it gets no
    CSRF cookie it would never use. Other safe requests pass through the parent (it sets the
    CSRF cookie). An unsafe request is checked when it carries the session cookie, and on the
    logins; otherwise nothing could be forged.
    """

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        super().__init__(app, config)
        self._inner = app
        # The cookie's header with its attributes rendered once, the token left to fill in:
        # every anonymous GET (a donor's tracking page) gets a fresh token, and Litestar
        # renders the whole cookie for each (a dataclass copied, a SimpleCookie built).
        shape = "0" * CSRF_TOKEN_LENGTH  # hex like a token: rendered unquoted, as a token is
        rendered = Cookie(
            key=config.cookie_name,
            value=shape,
            path=config.cookie_path,
            secure=config.cookie_secure,
            httponly=config.cookie_httponly,
            samesite=config.cookie_samesite,
            domain=config.cookie_domain,
        ).to_header(header="")
        self._cookie_head, _, self._cookie_tail = rendered.partition(shape)

    def _set_cookie_if_needed(self, message: HTTPSendMessage, token: str) -> None:
        MutableScopeHeaders.from_message(message).add(
            "set-cookie", f"{self._cookie_head}{token}{self._cookie_tail}"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and (
            _bearer(scope)
            or (scope.get("method") not in self.config.safe_methods and not _csrf_applies(scope))
        ):
            await self._inner(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _bearer(scope: Scope) -> bool:
    """Whether the request authenticates with its ``Authorization`` header (checked by the
    authentication, 401 if invalid), never with an ambient cookie."""
    return any(name == b"authorization" for name, _ in scope["headers"])


def _csrf_applies(scope: Scope) -> bool:
    headers = scope["headers"]
    if str(scope.get("path_template", scope["path"])).rstrip("/") in LOGIN_PATHS:
        return True
    session = SESSION_COOKIE.encode() + b"="
    return any(
        name == b"cookie" and any(part.strip().startswith(session) for part in value.split(b";"))
        for name, value in headers
    )


def _settings_of(state: State) -> Settings:
    """The :class:`Settings` given to :func:`create_app` (a dependency named ``settings``)."""
    settings: Settings = state.settings
    return settings


POOL_CLOSE_SECONDS = 10.0


async def _close_pool(db: PostgresEngine) -> None:
    """Close the pool, but never wait forever: after PostgreSQL restarted under load, a
    connection lost mid-query may never be released, and a graceful close would wait for it
    (asyncpg terminates the pool when its close is cancelled)."""
    try:
        await asyncio.wait_for(db.close_connection_pool(), timeout=POOL_CLOSE_SECONDS)
    except TimeoutError:
        logger.warning("database pool not closed in %.0f s: terminated", POOL_CLOSE_SECONDS)


async def _keep_session(connection: Any) -> None:
    """A pooled connection goes back as it is: asyncpg's default reset would send
    ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` after every statement run
    outside a transaction, a second round trip to the database for each. The app leaves no
    session state to reset: no ``SET`` outside a transaction, no ``LISTEN`` (the job workers
    have their own pool), advisory locks only per transaction (``pg_advisory_xact_lock``),
    cursors only inside transactions; a transaction left open is still rolled back by asyncpg
    before this is called."""


def _lifespan(settings: Settings, manage_pool: bool) -> Any:
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        db = engine()
        pooled = manage_pool and isinstance(db, PostgresEngine)
        if pooled and isinstance(db, PostgresEngine):
            await db.start_connection_pool(
                min_size=1, max_size=settings.database_pool_size, reset=_keep_session
            )
        try:
            # Jobs run on workers; no server touches work in flight when it starts. The SQLite
            # demo (or EMBEDDED_WORKER=true) runs a worker inside this process.
            async with (
                embedded_worker(settings)
                if manage_pool and settings.embedded_worker
                else contextlib.nullcontext()
            ):
                yield
        finally:
            if pooled and isinstance(db, PostgresEngine):
                await _close_pool(db)

    return lifespan


def create_app(settings: Settings | None = None, *, manage_pool: bool = True) -> Litestar:
    """Build the app on ``settings`` (its database engine too, see :func:`nuanxin.db.configure`).

    ``manage_pool=False`` when a test owns the database pool. Without settings (uvicorn's
    ``nuanxin.app:create_app --factory``, the entry point of a server process) they are read
    from the environment, once, here.
    """
    settings = settings or Settings.from_env()
    configure(settings)
    install_log_redaction()  # no ID number, phone, token or tracking code reaches a log
    secure = settings.is_production
    shared = shared_state(settings)  # sessions and limit counters: Redis, or embedded
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=secure,
        cookie_samesite="strict",
        # Not HttpOnly: the pages' scripts copy the token into the header (double submit). The
        # session cookie, the one worth stealing, is HttpOnly.
        cookie_httponly=False,
        exclude=["/admin", "/api/auth/token", "/api/stripe/webhook"],
    )
    sessions = SessionConfig(
        key=SESSION_COOKIE, secure=secure, httponly=True, samesite="lax", max_age=8 * 3600
    )
    app = Litestar(
        route_handlers=[
            *API_CONTROLLERS,
            *PAGES,
            admin_mount(settings),
            create_static_files_router(
                path="/static", directories=[ROOT / "frontend" / "static"], include_in_schema=False
            ),
        ],
        middleware=[
            BodyGuardMiddleware,  # first: the body read once, JSON nested too deep refused
            sessions.middleware,
            DefineMiddleware(AmbientCSRFMiddleware, config=csrf),
            DefineMiddleware(NuanxinAuthMiddleware, exclude=["/static", "/schema"]),
            SessionUserMiddleware(),  # public pages know who is logged in, without requiring it
            DefineMiddleware(RateLimitMiddleware, limiter=shared.limiter),  # after auth: knows who
        ],
        before_send=[security_headers(settings)],  # every answer, errors and the admin too
        before_request=reject_unstorable,  # ids beyond int4, NUL bytes: 400 before the database
        stores=StoreRegistry(stores={"sessions": shared.sessions}),
        template_config=TemplateConfig(
            directory=ROOT / "frontend" / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=install_filters,
        ),
        openapi_config=OpenAPIConfig(
            title="Nuanxin (暖心) API",
            version=__version__,
            description=f"Authentication: a bearer token (API clients) or the session cookie "
            f"(browsers).\n\n{CSRF_RULE}",
            path="/schema",
            render_plugins=[JsonRenderPlugin(), SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="From POST /api/auth/token. No CSRF token is needed; an "
                        "invalid, revoked or expired token answers 401 on every route.",
                    ),
                    "SessionCookie": SecurityScheme(
                        type="apiKey",
                        name=SESSION_COOKIE,
                        security_scheme_in="cookie",
                        description=CSRF_RULE,
                    ),
                }
            ),
            security=[{"BearerToken": []}, {"SessionCookie": []}],
        ),
        # Request-scoped things a handler may ask for by name: who is asking, and the settings.
        dependencies={
            "actor": Provide(current_user, sync_to_thread=False),
            "settings": Provide(_settings_of, sync_to_thread=False),
        },
        exception_handlers=exception_handlers,
        lifespan=[_lifespan(settings, manage_pool)],
        state=State({"settings": settings}),
        debug=settings.debug,
    )
    document_on_every_operation(app, 401)  # a bad bearer token, on every route (CSRF_RULE)
    _resolve_dependencies_in_turn(app)
    return app


def _resolve_dependencies_in_turn(app: Litestar) -> None:
    """Resolve each handler's dependencies one after the other, never in a task group.

    Litestar resolves the independent dependencies of a handler (``actor`` and ``page`` for a
    list, ``actor`` and ``settings`` for a confirmation) concurrently, in an anyio task group
    per request. Ours read the request and return at once: the group costs more than they do
    (5-8 % of an offer listing's CPU in process). Each batch becomes one batch per dependency,
    in the same order of batches, so that what depends on another is still resolved after it.
    """
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for _, model in route.route_handler_map.values():
                model.dependency_batches = [
                    {dependency}
                    for batch in model.dependency_batches
                    for dependency in sorted(batch, key=lambda d: d.key)
                ]
