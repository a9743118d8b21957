"""Staff pages of households: the jurisdiction's list (search, filters, map, verification) and
one household; and the 一事一议 (case-by-case) screen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError, Invalid
from nuanxin.guards import current_user, staff_and_admin
from nuanxin.households import escalations, services
from nuanxin.households.schemas import VerificationFilter
from nuanxin.households.tables import Category
from nuanxin.offers import services as offers
from nuanxin.pagination import Pagination
from nuanxin.web import PageController, done, form_error, gettext_for, page

__all__ = ("EscalationPages", "HouseholdPages")

AnyRequest = Request[Any, Any, Any]
PER_PAGE = 50


def _choice(value: str | None, kind: type[Any]) -> Any:
    try:
        return kind(value) if value else None
    except ValueError:
        return None


def _safe_back(target: str, fallback: str) -> str:
    return target if target.startswith("/staff/") and not target.startswith("//") else fallback


class HouseholdPages(PageController):
    path = "/staff/households"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def index(self, request: AnyRequest) -> Template:
        query = request.query_params
        filters = {
            "q": (query.get("q") or "").strip()[:100],
            "category": _choice(query.get("category"), Category),
            "verification": _choice(query.get("verification"), VerificationFilter),
        }
        try:
            offset = max(0, int(query.get("offset") or 0))
        except ValueError:
            offset = 0
        items, total = await services.list_households(
            user=current_user(request),
            category=filters["category"],
            verification=filters["verification"],
            search=filters["q"] or None,
            limit=PER_PAGE,
            offset=offset,
        )
        points = [
            {
                "lat": h.lat,
                "lon": h.lon,
                "kind": "household",
                "label": f"{h.reference} {h.region_name}",
            }
            for h in items
        ]
        kept = {k: (v.value if hasattr(v, "value") else v) for k, v in filters.items() if v}
        return page(
            request,
            "staff/households.html.j2",
            {
                "items": items,
                "total": total,
                "offset": offset,
                "per_page": PER_PAGE,
                "filters": filters,
                "categories": list(Category),
                "verifications": list(VerificationFilter),
                "points": points,
                "here": request.url.path + ("?" + urlencode(kept) if kept else ""),
                "page_url": lambda o: request.url.path + "?" + urlencode({**kept, "offset": o}),
                "now": datetime.now(UTC),
            },
        )

    @get("/{household_id:int}")
    async def detail(self, request: AnyRequest, household_id: FromPath[int]) -> Template:
        return await self._detail(request, household_id)

    async def _detail(
        self, request: AnyRequest, household_id: int, error: str | None = None, status: int = 200
    ) -> Template:
        user = current_user(request)
        household = await services.get_household(user=user, household_id=household_id)
        needs = await services.list_needs(user=user, household_id=household_id)
        return page(
            request,
            "staff/household.html.j2",
            {
                "h": household,
                "needs": needs,
                "items": {i.code: i for i in await offers.list_items()},
                "points": [
                    {
                        "lat": household.lat,
                        "lon": household.lon,
                        "kind": "household",
                        "label": household.reference,
                    }
                ],
                "error": error,
            },
            status_code=status,
        )

    @post("/{household_id:int}/verify", status_code=303)
    async def verify(self, request: AnyRequest, household_id: FromPath[int]) -> Redirect:
        _ = gettext_for(request)
        form = await request.form()
        household = await services.verify_household(
            user=current_user(request),
            household_id=household_id,
            verification_months=request.app.state.settings.verification_months,
        )
        back = _safe_back(str(form.get("next", "")), f"/staff/households/{household_id}")
        return done(
            request,
            _("%(ref)s verified until %(date)s.")
            % {
                "ref": household.reference,
                "date": household.verification_expires_at.date()
                if household.verification_expires_at
                else "—",
            },
            back,
        )


class EscalationPages(PageController):
    """一事一议: ask the level above for more than the cap; decide what the level below asks."""

    path = "/staff/escalations"
    guards = [staff_and_admin]  # noqa: RUF012

    async def _index(
        self, request: AnyRequest, error: str | None = None, status: int = 200
    ) -> Template:
        user = current_user(request)
        found = await escalations.list_escalations(actor=user, page=Pagination(limit=100, offset=0))
        now = datetime.now(UTC)
        return page(
            request,
            "staff/escalations.html.j2",
            {
                "escalations": found,
                "may_decide": {
                    e.id: escalations._may_decide(user, e.decide_at_code) for e in found.items
                },
                "waiting_days": {e.id: (now - e.created_at).days for e in found.items},
                "items": await offers.list_items(),
                "household_id": request.query_params.get("household_id", ""),
                "error": error,
            },
            status_code=status,
        )

    @get("/")
    async def index(self, request: AnyRequest) -> Template:
        return await self._index(request)

    @post("/", status_code=303)
    async def ask(self, request: AnyRequest) -> Template | Redirect:
        _ = gettext_for(request)
        form = await request.form()
        try:
            data = msgspec.convert(
                {
                    "household_id": int(str(form.get("household_id", "0")) or 0),
                    "item_code": str(form.get("item_code", "")),
                    "quantity": int(str(form.get("quantity", "0")) or 0),
                    "reason": str(form.get("reason", "")).strip(),
                },
                escalations.EscalationIn,
            )
            made = await escalations.request_escalation(actor=current_user(request), data=data)
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._index(request, form_error(request, exc), 400)
        return done(
            request,
            _("Request sent to %(who)s.") % {"who": made.decide_at_name},
            "/staff/escalations",
        )

    @post("/{escalation_id:int}/decide", status_code=303)
    async def decide(
        self, request: AnyRequest, escalation_id: FromPath[int]
    ) -> Template | Redirect:
        _ = gettext_for(request)
        form = await request.form()
        reason = str(form.get("reason", "")).strip()
        try:
            if not reason:
                raise Invalid(_("Give a reason"), field="reason")
            await escalations.decide(
                actor=current_user(request),
                escalation_id=escalation_id,
                approve=form.get("approve") == "1",
                reason=reason[:500],
            )
        except DomainError as exc:
            return await self._index(request, form_error(request, exc), 400)
        return done(request, _("Decision recorded."), "/staff/escalations")
