"""Delivery pages: the staff progress dashboard, household visits and batches of slips,
先行救助 (emergencies); the charity's printable list by township; the courier's phone screen
(visits by township, searchable; one code per visit; a locked visit names whom to call).

Over 400 lines because the three roles' delivery pages share their helpers (the visit list,
the printed batch); splitting it by role is the next step.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from itertools import groupby
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.deliveries import confirmation, emergencies, progress, services, visits
from nuanxin.deliveries.schemas import DeliveryOut, SlipOut, VisitOut
from nuanxin.deliveries.vocabulary import DeliveryStatus, VisitStatus
from nuanxin.errors import DomainError, Invalid
from nuanxin.forms import FormState, blank
from nuanxin.guards import charity_members, couriers_and_members, staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.labels import count_unit, weight_text
from nuanxin.limits import Guess
from nuanxin.offers import services as offers
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.printing import Slip, SlipItem, qr_svg
from nuanxin.routes import services as routes
from nuanxin.routes.controllers import today_in
from nuanxin.routes.pages import route_order
from nuanxin.safety import services as safety
from nuanxin.safety.schemas import SafetyChecklistIn
from nuanxin.safety.services import SafetyPolicy
from nuanxin.safety.vocabulary import CoAlarm
from nuanxin.settings import Settings
from nuanxin.web import (
    PageController,
    done,
    form_error,
    gettext_for,
    item_label,
    language_of,
    page,
)

__all__ = ("CharityDeliveryPages", "CourierPages", "StaffDeliveryPages")

AnyRequest = Request[Any, Any, Any]


class EmergencyForm(msgspec.Struct, kw_only=True):
    """The 先行救助 form, as typed (converted to :class:`emergencies.EmergencyIn`)."""

    household_id: str = ""
    item_code: str = ""
    quantity: str = "1"
    reason: str = ""


class VisitCodeForm(msgspec.Struct, kw_only=True):
    """The code, and the heating-safety checklist of a visit bringing coal or a stove."""

    code: str = ""
    safety_chimney_sealed: str = ""  # yes / no
    safety_vent: str = ""
    safety_stove_not_in_bedroom: str = ""
    safety_co_alarm: str = ""  # present / installed / missing
    safety_leaflet: str = ""


def _checklist(request: AnyRequest, form: VisitCodeForm) -> SafetyChecklistIn:
    """The checklist as answered; every question unanswered is refused at its field."""
    _ = gettext_for(request)
    yes_no = {"yes": True, "no": False}
    answers: dict[str, object] = {}
    missing: dict[str, str] = {}
    for name in ("chimney_sealed", "vent", "stove_not_in_bedroom", "leaflet"):
        value = getattr(form, f"safety_{name}").strip()
        if value in yes_no:
            answers[name] = yes_no[value]
        else:
            missing[f"safety_{name}"] = _("Answer yes or no")
    alarm = form.safety_co_alarm.strip()
    if alarm in set(CoAlarm):
        answers["co_alarm"] = alarm
    else:
        missing["safety_co_alarm"] = _("Choose one answer")
    if missing:
        raise IncompleteChecklistError(missing)
    return msgspec.convert(answers, SafetyChecklistIn)


class IncompleteChecklistError(Exception):
    """Questions of the checklist left unanswered (field -> what to do, translated)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("checklist incomplete")
        self.errors = errors


class ReasonForm(msgspec.Struct, kw_only=True):
    reason: str = ""


class BatchForm(msgspec.Struct, kw_only=True):
    """Ticked visits (one ``visit_id`` per tick) and the paper to print them on."""

    visit_id: list[str] | str = ""
    paper: str = "a4"


BatchBody = Annotated[BatchForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
EmergencyBody = Annotated[EmergencyForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
VisitCodeBody = Annotated[VisitCodeForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
ReasonBody = Annotated[ReasonForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _deliveries(user: CurrentUser, status: str | None) -> list[DeliveryOut]:
    found: list[DeliveryOut] = []
    while len(found) < 2000:
        chunk = await services.list_deliveries(
            actor=user, page=Pagination(limit=MAX_LIMIT, offset=len(found)), status=status
        )
        found.extend(chunk.items)
        if not chunk.items or len(found) >= chunk.total:
            break
    return found


def _by_township(deliveries: list[DeliveryOut]) -> list[tuple[str, list[DeliveryOut]]]:
    ordered = sorted(deliveries, key=lambda d: (d.region_code, d.id))
    return [
        (f"{first.county} {first.township}".strip(), group)
        for _, rows in groupby(ordered, key=lambda d: d.region_code)
        for group in [list(rows)]
        for first in [group[0]]
    ]


async def _visits(
    user: CurrentUser,
    *,
    status: str | None,
    q: str | None = None,
    region_code: str | None = None,
    organization_id: int | None = None,
    limit: int = 2000,
) -> list[VisitOut]:
    found: list[VisitOut] = []
    while len(found) < limit:
        chunk = await visits.list_visits(
            actor=user,
            page=Pagination(limit=MAX_LIMIT, offset=len(found)),
            status=status,
            q=q,
            region_code=region_code,
            organization_id=organization_id,
        )
        found.extend(chunk.items)
        if not chunk.items or len(found) >= chunk.total:
            break
    return found


def _visits_by_township(found: list[VisitOut]) -> list[tuple[str, list[VisitOut]]]:
    return [
        (f"{group[0].county} {group[0].township}".strip(), group)
        for _, rows in groupby(found, key=lambda v: v.region_code)
        for group in [list(rows)]
    ]


def _reference(visit: VisitOut) -> str:
    return visit.household_reference


def _households_by_township(
    found: list[VisitOut],
) -> list[tuple[str, list[tuple[str, list[VisitOut]]]]]:
    """The courier's list: townships, then one card per household holding its visits."""
    return [
        (name, [(ref, list(rows)) for ref, rows in groupby(group, key=_reference)])
        for name, group in _visits_by_township(found)
    ]


def _slip_items(request: AnyRequest, slip: SlipOut) -> list[SlipItem]:
    _ = gettext_for(request)
    lines = []
    for line in slip.items:
        if line.status not in (DeliveryStatus.pending, DeliveryStatus.locked):
            continue
        lines.append(
            SlipItem(
                name=item_label(request, line.item_code),
                quantity=line.quantity,
                unit=count_unit(line.quantity, line.item_code, _),
                note=weight_text(line.quantity, line.item_code, language_of(request), _),
            )
        )
    return lines


async def _print_page(
    request: AnyRequest, actor: CurrentUser, settings: Settings, slips: list[SlipOut], paper: str
) -> Template:
    """The printable batch: each slip with its QR code (the code alone), two to an A4 sheet."""
    shown = await visits.visits_by_id(actor=actor, visit_ids=[s.visit_id for s in slips])
    today = datetime.now(ZoneInfo(settings.timezone))
    printed = [
        Slip(
            reference=visit.household_reference,
            head_name=visit.recipient or "",
            village=f"{visit.county} {visit.township}".strip(),
            address=visit.address or "",
            charity=visit.charity,
            visit_no=visit.visit_no,
            date=today.date(),
            items=_slip_items(request, slip),
            code=slip.code,
            reprint=slip.reprint,
        )
        for slip, visit in zip(slips, shown, strict=True)
    ]
    return page(
        request,
        "staff/slips.html.j2",
        {
            "slips": printed,
            "qrs": [qr_svg(s.code, label=s.grouped_code) for s in printed],
            "paper": "roll" if paper == "roll" else "a4",
            "batch_ref": f"{today:%Y%m%d-%H%M}-{slips[0].visit_id}" if slips else "",
            "printed_at": today.strftime("%Y-%m-%d %H:%M"),
            "hotline": settings.hotline,
        },
    )


async def _asks_safety(visit: VisitOut) -> bool:
    """Whether the visit's items still to hand over call for the heating-safety checklist."""
    return await safety.asks_checklist(
        item_codes=[
            line.item_code
            for line in visit.items
            if line.status in (DeliveryStatus.pending, DeliveryStatus.locked)
        ]
    )


async def _delivery_asks_safety(actor: CurrentUser, delivery: DeliveryOut) -> bool:
    """Whether the delivery's visit (it confirms the whole visit) asks the checklist."""
    if delivery.visit_id is None:
        return False
    return await _asks_safety(await visits.get_visit(actor=actor, visit_id=delivery.visit_id))


def _points(request: AnyRequest, deliveries: list[DeliveryOut]) -> list[dict[str, Any]]:
    return [
        {
            "lat": d.lat,
            "lon": d.lon,
            "kind": "delivery",
            "label": f"{d.household_reference} · {item_label(request, d.item_code)} × {d.quantity}",
        }
        for d in deliveries
        if d.lat is not None and d.lon is not None
    ]


class StaffDeliveryPages(PageController):
    """The progress dashboard, the jurisdiction's deliveries (slips), and 先行救助."""

    path = "/staff"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def dashboard(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        _ = gettext_for(request)
        figures = await progress.progress(actor=actor)
        weeks = sorted({row.week for row in figures.delivered})
        series: dict[str, dict[Any, int]] = defaultdict(lambda: defaultdict(int))
        per_township: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for row in figures.delivered:
            series[row.kind][row.week] += row.units
            per_township[row.township][row.kind] += row.units
        kinds = sorted(series)
        over_time = {
            "type": "line",
            "labels": [week.isoformat() for week in weeks],
            "datasets": [
                {
                    "label": item_label(request, kind),
                    "data": [series[kind].get(week, 0) for week in weeks],
                }
                for kind in kinds
            ],
        }
        townships = sorted(per_township)
        by_township = {
            "type": "bar",
            "stacked": True,
            "labels": townships,
            "datasets": [
                {
                    "label": item_label(request, kind),
                    "data": [per_township[t].get(kind, 0) for t in townships],
                }
                for kind in kinds
            ],
        }
        unmet_kinds = sorted({kind for place in figures.unmet for kind in place.units_by_kind})
        unmet_chart = {
            "type": "bar",
            "stacked": True,
            "labels": [place.region_name for place in figures.unmet],
            "datasets": [
                {
                    "label": item_label(request, kind),
                    "data": [p.units_by_kind.get(kind, 0) for p in figures.unmet],
                }
                for kind in unmet_kinds
            ],
        }
        points = [
            {
                "lat": place.lat,
                "lon": place.lon,
                "kind": "unmet",
                "size": sum(place.units_by_kind.values()),
                "label": f"{place.region_name}: {sum(place.units_by_kind.values())}",
            }
            for place in figures.unmet
        ]
        return page(
            request,
            "staff/dashboard.html.j2",
            {
                "p": figures,
                "over_time": over_time,
                "by_township": by_township,
                "unmet_chart": unmet_chart,
                "points": points,
                "kinds": kinds,
                "per_township": per_township,
                "unmet_kinds": unmet_kinds,
            },
        )

    @get("/deliveries")
    async def deliveries(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        """The jurisdiction's household visits by township (or one courier's day, in the order
        of their route): tick rows, print their slips."""
        _ = gettext_for(request)
        status = request.query_params.get("status") or VisitStatus.pending
        if status not in set(VisitStatus):
            status = VisitStatus.pending
        township = request.query_params.get("township") or None
        charity_text = request.query_params.get("charity") or ""
        charity = int(charity_text) if charity_text.isdigit() else None
        courier_text = request.query_params.get("courier") or ""
        q = (request.query_params.get("q") or "").strip()[:100] or None
        everywhere = await _visits(actor, status=status)
        townships = sorted(
            {(v.region_code, f"{v.county} {v.township}".strip()) for v in everywhere}
        )
        charities = sorted({(v.organization_id, v.charity) for v in everywhere}, key=lambda c: c[1])
        today = datetime.now(ZoneInfo(settings.timezone)).date()
        loads = await routes.couriers_carrying(actor=actor, day=today)
        load = next((one for one in loads if str(one.route_id) == courier_text), None)
        found = [
            v
            for v in everywhere
            if township in (None, v.region_code) and charity in (None, v.organization_id)
        ]
        if q:
            found = await _visits(
                actor, status=status, q=q, region_code=township, organization_id=charity
            )
        groups = _visits_by_township(found)
        if load is not None:  # the courier's day: their route's order, what is still to print
            shown = {v.id for v in found}
            ordered = await visits.visits_by_id(actor=actor, visit_ids=load.visit_ids)
            found = [v for v in ordered if v.id in shown]
            label = _("%(courier)s's route today") % {"courier": load.courier}
            groups = [(f"{label} · {load.charity}", found)] if found else []
        return page(
            request,
            "staff/visits.html.j2",
            {
                "groups": groups,
                "status": status,
                "township": township or "",
                "townships": townships,
                "charity": charity,
                "charities": charities,
                "courier": load.route_id if load else None,
                "loads": loads,
                "q": q or "",
                "count": len(found),
            },
        )

    @post("/visits/slips", status_code=200)
    async def print_slips(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: BatchBody,
    ) -> Template | Redirect:
        """Print the ticked visits' slips as one page (each gets a new code; 补打 if again)."""
        _ = gettext_for(request)
        ticked = [data.visit_id] if isinstance(data.visit_id, str) else data.visit_id
        ids = [int(v) for v in ticked if v.strip().isdigit()][:500]
        if not ids:
            return done(request, _("Tick the visits whose slips to print."), "/staff/deliveries")
        slips = await confirmation.issue_slips(
            actor=actor, secret_key=settings.secret_key, visit_ids=ids
        )
        return await _print_page(request, actor, settings, slips, data.paper)

    @post("/deliveries/{delivery_id:int}/slip", status_code=200)
    async def slip(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        delivery_id: FromPath[int],
    ) -> Template:
        """Print the slip of the delivery's visit: a new one-time code (shown once)."""
        await services.get_delivery(actor=actor, delivery_id=delivery_id)
        slip = await confirmation.issue_slip(
            actor=actor,
            secret_key=settings.secret_key,
            visit_id=await confirmation.visit_of(delivery_id),
            delivery_id=delivery_id,
        )
        return await _print_page(request, actor, settings, [slip], "a4")

    async def _emergencies(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        settings: Settings,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        listed = await emergencies.list_emergencies(actor=actor, page=Pagination(limit=100))
        overdue = await emergencies.list_emergencies(
            actor=actor, page=Pagination(limit=100), overdue_only=True
        )
        return page(
            request,
            "staff/emergencies.html.j2",
            {
                "listed": listed,
                "overdue": overdue,
                "items": await offers.list_items(),
                "household_id": request.query_params.get("household_id", ""),
                "days": settings.emergency_paperwork_days,
                "error": error,
            },
            status_code=status_code,
        )

    @get("/emergencies")
    async def emergencies_page(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        return await self._emergencies(request, actor, settings)

    @post("/emergencies", status_code=303)
    async def assist(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: EmergencyBody,
    ) -> Template | Redirect:
        """先行救助: allocate to one household now, from the nearest stock that reaches it."""
        _ = gettext_for(request)
        form = data
        try:
            wanted = msgspec.convert(
                {
                    "household_id": int(form.household_id.strip() or 0),
                    "item_code": form.item_code,
                    "quantity": int(form.quantity.strip() or 1),
                    "reason": form.reason.strip(),
                },
                emergencies.EmergencyIn,
            )
            made = await emergencies.assist_first(
                actor=actor,
                data=wanted,
                paperwork_days=settings.emergency_paperwork_days,
            )
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._emergencies(request, actor, settings, form_error(request, exc), 400)
        return done(
            request,
            _("Allocated now: delivery #%(d)d (%(km).1f km). Paperwork due %(due)s.")
            % {
                "d": made.delivery_id,
                "km": made.distance_km,
                "due": made.paperwork_due_at.date().isoformat(),
            },
            "/staff/emergencies",
        )

    @post("/emergencies/{allocation_id:int}/paperwork", status_code=303)
    async def paperwork(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], allocation_id: FromPath[int]
    ) -> Redirect:
        await emergencies.complete_paperwork(actor=actor, allocation_id=allocation_id)
        _ = gettext_for(request)
        return done(request, _("Paperwork recorded."), "/staff/emergencies")


class CharityDeliveryPages(PageController):
    """The charity's deliveries to make, by township: a printable list with a map."""

    path = "/charity/deliveries"
    guards = [charity_members]  # noqa: RUF012

    @get("/")
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        found = await _deliveries(actor, DeliveryStatus.pending)
        return page(
            request,
            "charity/deliveries.html.j2",
            {
                "groups": _by_township(found),
                "count": len(found),
                "points": _points(request, found),
                "items": {i.code: i for i in await offers.list_items()},
            },
        )


class CourierPages(PageController):
    """The courier's phone screen: pick a delivery, type (or scan) the household's code."""

    path = "/courier"
    guards = [couriers_and_members]  # noqa: RUF012

    @get("/")
    async def index(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        """Today's visits by township, searchable (reference or address), 3-line cards; those
        on the courier's route for today first, in its order."""
        _ = gettext_for(request)
        q = (request.query_params.get("q") or "").strip()[:100] or None
        found = [
            v
            for v in await _visits(actor, status=None, q=q)
            if v.status in (VisitStatus.pending, VisitStatus.locked)
        ]
        route = await routes.latest_route(actor=actor, day=today_in(settings))
        on_route = route_order(route, found)
        groups = _households_by_township(found)
        if on_route:
            rest = [v for v in found if v.id not in {r.id for r in on_route}]
            in_order = [(ref, list(rows)) for ref, rows in groupby(on_route, key=_reference)]
            groups = [(_("Today's route, in order"), in_order), *_households_by_township(rest)]
        context = {
            "groups": groups,
            "count": len(found),
            "households": len({v.household_id for v in found}),
            "q": q or "",
            "route": route,
        }
        if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "visit-list":
            return page(request, "partials/visit_cards.html.j2", context)
        return page(request, "courier/index.html.j2", context)

    async def _visit(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        settings: Settings,
        visit_id: int,
        error: str | None = None,
        status: int = 200,
        safety_form: FormState | None = None,
    ) -> Template:
        visit = await visits.get_visit(actor=actor, visit_id=visit_id)
        return page(
            request,
            "courier/visit.html.j2",
            {
                "v": visit,
                "error": error,
                "hotline": settings.hotline,
                "asks_safety": await _asks_safety(visit),
                "safety_form": safety_form or blank(),
            },
            status_code=status,
        )

    @get("/visits/{visit_id:int}")
    async def visit(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
    ) -> Template:
        return await self._visit(request, actor, settings, visit_id)

    @post("/visits/{visit_id:int}/confirm", status_code=303, guessing=Guess.visit_code)
    async def confirm_visit(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
        data: VisitCodeBody,
    ) -> Template | Redirect:
        """The code, and on a visit bringing coal or a stove every answer of the checklist."""
        _ = gettext_for(request)
        code = data.code.strip()
        answers = blank(data)
        try:
            if not code:
                raise Invalid(_("Type the household's code"), field="code")
            visit = await visits.get_visit(actor=actor, visit_id=visit_id)
            checklist = _checklist(request, data) if await _asks_safety(visit) else None
            await confirmation.confirm(
                actor=actor,
                secret_key=settings.secret_key,
                visit_id=visit_id,
                code=code[:32],
                checklist=checklist,
                policy=SafetyPolicy.of(settings),
            )
        except IncompleteChecklistError as incomplete:
            form = FormState(values=answers.values, errors=incomplete.errors)
            return await self._visit(request, actor, settings, visit_id, None, 400, form)
        except DomainError as exc:
            return await self._visit(
                request, actor, settings, visit_id, form_error(request, exc), 400, answers
            )
        return done(request, _("Delivery confirmed. Thank you!"), "/courier")

    @post("/visits/{visit_id:int}/fail", status_code=303)
    async def fail_visit(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        visit_id: FromPath[int],
        data: ReasonBody,
    ) -> Template | Redirect:
        _ = gettext_for(request)
        reason = data.reason.strip()
        try:
            if not reason:
                raise Invalid(_("Give a reason"), field="reason")
            await confirmation.fail(actor=actor, visit_id=visit_id, reason=reason[:300])
        except DomainError as exc:
            return await self._visit(
                request, actor, settings, visit_id, form_error(request, exc), 400
            )
        return done(request, _("Failure recorded; the stock returns to the pool."), "/courier")

    async def _one(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        settings: Settings,
        delivery_id: int,
        error: str | None = None,
        status: int = 200,
        safety_form: FormState | None = None,
    ) -> Template:
        delivery = await services.get_delivery(actor=actor, delivery_id=delivery_id)
        return page(
            request,
            "courier/delivery.html.j2",
            {
                "d": delivery,
                "error": error,
                "hotline": settings.hotline,
                "items": {i.code: i for i in await offers.list_items()},
                "asks_safety": await _delivery_asks_safety(actor, delivery),
                "safety_form": safety_form or blank(),
            },
            status_code=status,
        )

    @get("/deliveries/{delivery_id:int}")
    async def one(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        delivery_id: FromPath[int],
    ) -> Template:
        return await self._one(request, actor, settings, delivery_id)

    @post("/deliveries/{delivery_id:int}/confirm", status_code=303, guessing=Guess.delivery_code)
    async def confirm(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        delivery_id: FromPath[int],
        data: VisitCodeBody,
    ) -> Template | Redirect:
        """The code; the checklist too when the delivery's visit brings coal or a stove."""
        _ = gettext_for(request)
        code = data.code.strip()
        answers = blank(data)
        try:
            if not code:
                raise Invalid(_("Type the household's code"), field="code")
            delivery = await services.get_delivery(actor=actor, delivery_id=delivery_id)
            asks = await _delivery_asks_safety(actor, delivery)
            await confirmation.confirm(
                actor=actor,
                secret_key=settings.secret_key,
                visit_id=await confirmation.visit_of(delivery_id),
                code=code[:32],
                checklist=_checklist(request, data) if asks else None,
                policy=SafetyPolicy.of(settings),
            )
        except IncompleteChecklistError as incomplete:
            form = FormState(values=answers.values, errors=incomplete.errors)
            return await self._one(request, actor, settings, delivery_id, None, 400, form)
        except DomainError as exc:
            return await self._one(
                request, actor, settings, delivery_id, form_error(request, exc), 400, answers
            )
        return done(
            request, _("Delivery #%(id)d confirmed. Thank you!") % {"id": delivery_id}, "/courier"
        )

    @post("/deliveries/{delivery_id:int}/fail", status_code=303)
    async def fail(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        delivery_id: FromPath[int],
        data: ReasonBody,
    ) -> Template | Redirect:
        _ = gettext_for(request)
        reason = data.reason.strip()
        try:
            if not reason:
                raise Invalid(_("Give a reason"), field="reason")
            await confirmation.fail_delivery(
                actor=actor, delivery_id=delivery_id, reason=reason[:300]
            )
        except DomainError as exc:
            return await self._one(
                request, actor, settings, delivery_id, form_error(request, exc), 400
            )
        return done(request, _("Failure recorded; the stock returns to the pool."), "/courier")
