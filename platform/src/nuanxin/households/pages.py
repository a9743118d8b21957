"""Staff pages of households: the jurisdiction's list (search, filters, map, verification) and
one household; and the 一事一议 (case-by-case) screen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError, Invalid
from nuanxin.guards import staff_and_admin
from nuanxin.households import escalations, need_records, read_model, verification
from nuanxin.households.schemas import EscalationIn
from nuanxin.households.vocabulary import Category, VerificationFilter
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.pagination import Pagination
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, form_error, gettext_for, page

__all__ = ("EscalationPages", "HouseholdPages")

AnyRequest = Request[Any, Any, Any]
PER_PAGE = 50


class VerifyForm(msgspec.Struct, kw_only=True):
    next: str = ""  # the page to return to


class EscalationForm(msgspec.Struct, kw_only=True):
    """The request form as typed (numbers checked by the service's DTO, with the page's
    message)."""

    household_id: str = ""
    item_code: str = ""
    quantity: str = ""
    reason: str = ""


class DecisionForm(msgspec.Struct, kw_only=True):
    approve: str = ""  # "1" approves
    reason: str = ""


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
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
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
        items, total = await read_model.list_households(
            user=actor,
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
    async def detail(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], household_id: FromPath[int]
    ) -> Template:
        household = await read_model.get_household(user=actor, household_id=household_id)
        needs = await need_records.list_needs(user=actor, household_id=household_id)
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
                "error": None,
            },
        )

    @post("/{household_id:int}/verify", status_code=303)
    async def verify(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        household_id: FromPath[int],
        data: Annotated[VerifyForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        _ = gettext_for(request)
        household = await verification.verify_household(
            user=actor,
            household_id=household_id,
            verification_months=settings.verification_months,
        )
        back = _safe_back(data.next, f"/staff/households/{household_id}")
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
        self,
        request: AnyRequest,
        actor: CurrentUser,
        error: str | None = None,
        status: int = 200,
    ) -> Template:
        found = await escalations.list_escalations(
            actor=actor, page=Pagination(limit=100, offset=0)
        )
        now = datetime.now(UTC)
        return page(
            request,
            "staff/escalations.html.j2",
            {
                "escalations": found,
                "may_decide": {
                    e.id: escalations.may_decide(actor, e.decide_at_code) for e in found.items
                },
                "waiting_days": {e.id: (now - e.created_at).days for e in found.items},
                "items": await offers.list_items(),
                "household_id": request.query_params.get("household_id", ""),
                "error": error,
            },
            status_code=status,
        )

    @get("/")
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        return await self._index(request, actor)

    @post("/", status_code=303)
    async def ask(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        data: Annotated[EscalationForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            asked = msgspec.convert(
                {
                    "household_id": int(data.household_id or 0),
                    "item_code": data.item_code,
                    "quantity": int(data.quantity or 0),
                    "reason": data.reason.strip(),
                },
                EscalationIn,
            )
            made = await escalations.request_escalation(actor=actor, data=asked)
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._index(request, actor, form_error(request, exc), 400)
        return done(
            request,
            _("Request sent to %(who)s.") % {"who": made.decide_at_name},
            "/staff/escalations",
        )

    @post("/{escalation_id:int}/decide", status_code=303)
    async def decide(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        escalation_id: FromPath[int],
        data: Annotated[DecisionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        reason = data.reason.strip()
        try:
            if not reason:
                raise Invalid(_("Give a reason"), field="reason")
            await escalations.decide(
                actor=actor,
                escalation_id=escalation_id,
                approve=data.approve == "1",
                reason=reason[:500],
            )
        except DomainError as exc:
            return await self._index(request, actor, form_error(request, exc), 400)
        return done(request, _("Decision recorded."), "/staff/escalations")
