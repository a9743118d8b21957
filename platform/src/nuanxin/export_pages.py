"""Exports of the staff lists (households, help requests, a round's proposals, deliveries, the
audit trail) as CSV or .xlsx, under the list's own filters: ``/staff/export/<list>?format=csv&...``
(a round's proposals: ``/staff/export/rounds/<id>/proposals``).

Each list's page links here with its filters and count ("导出 CSV（当前筛选，1,234 行）");
the rows come from the list's service (masked as it masks them), headings in the reader's
language, and each export is audited (:func:`nuanxin.exporting.export`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from nuanxin import labels
from nuanxin.audit.services import list_entries
from nuanxin.deliveries import services as deliveries
from nuanxin.deliveries.schemas import DeliveryOut
from nuanxin.deliveries.vocabulary import DeliveryStatus
from nuanxin.exporting import MAX_EXPORT_ROWS, export, export_format, json_text
from nuanxin.guards import staff_and_admin
from nuanxin.help_requests.services import list_requests
from nuanxin.help_requests.vocabulary import HelpRequestStatus, Source
from nuanxin.households.read_model import list_households
from nuanxin.households.vocabulary import Category, VerificationFilter
from nuanxin.i18n import DEFAULT_TIMEZONE
from nuanxin.identity import CurrentUser
from nuanxin.pagination import MAX_LIMIT, Pagination
from nuanxin.rounds import proposals as decisions
from nuanxin.rounds.schemas import ProposalOut
from nuanxin.rounds.vocabulary import ProposalStatus
from nuanxin.spreadsheets import Sheet
from nuanxin.web import PageController, gettext_for, item_label

__all__ = ("ExportPages", "audit_filters")

AnyRequest = Request[Any, Any, Any]


def _choice(value: str, vocabulary: Any) -> Any:
    return vocabulary(value) if value in {v.value for v in vocabulary} else None


def _zone(request: AnyRequest) -> str:
    """The deployment's time zone (``TIMEZONE``), in which exported times are written."""
    settings = request.app.state.get("settings")
    return str(getattr(settings, "timezone", DEFAULT_TIMEZONE))


def _day(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def audit_filters(entity: str, action: str, since: str, until: str) -> dict[str, Any]:
    """The audit trail's filters as the service takes them (bad dates are left out)."""
    return {
        "entity": entity.strip()[:40] or None,
        "action": action.strip()[:60] or None,
        "since": _day(since),
        "until": _day(until),
    }


class ExportPages(PageController):
    path = "/staff/export"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/households")
    async def households(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        format: FromQuery[str] = "csv",  # noqa: A002 - the query name
        q: FromQuery[str] = "",
        category: FromQuery[str] = "",
        verification: FromQuery[str] = "",
    ) -> Response[bytes]:
        _ = gettext_for(request)
        fmt = export_format(format)
        filters = {
            "q": q.strip()[:100],
            "category": _choice(category, Category),
            "verification": _choice(verification, VerificationFilter),
        }
        items, _total = await list_households(
            user=actor,
            category=filters["category"],
            verification=filters["verification"],
            search=filters["q"] or None,
            limit=MAX_EXPORT_ROWS,
            offset=0,
        )
        sheet = Sheet(
            timezone=_zone(request),
            title=_("Households"),
            headings=[
                _("Reference"),
                _("Head"),
                _("ID number (last 4)"),
                _("Phone"),
                _("Category"),
                _("Where"),
                _("Current address"),
                _("Household size"),
                _("Verified until"),
            ],
            rows=[
                [
                    h.reference,
                    h.head_name,
                    h.id_number,
                    h.phone,
                    _(h.category.value),
                    h.region_name,
                    h.current_address,
                    len(h.members),
                    h.verification_expires_at if h.is_verification_current else "",
                ]
                for h in items
            ],
        )
        return await export(actor=actor, what="households", sheet=sheet, fmt=fmt, filters=filters)

    @get("/help-requests")
    async def help_requests(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        format: FromQuery[str] = "csv",  # noqa: A002 - the query name
        status: FromQuery[str] = HelpRequestStatus.open.value,
        source: FromQuery[str] = "",
    ) -> Response[bytes]:
        _ = gettext_for(request)
        fmt = export_format(format)
        filters = {
            "status": _choice(status, HelpRequestStatus),
            "source": _choice(source, Source),
        }
        items, _total = await list_requests(
            user=actor,
            status=filters["status"],
            source=filters["source"],
            limit=MAX_EXPORT_ROWS,
            offset=0,
        )
        sheet = Sheet(
            timezone=_zone(request),
            title=_("Help requests"),
            headings=[
                _("Number"),
                _("Source"),
                _("Status"),
                _("Person"),
                _("Phone"),
                _("Where"),
                _("Address"),
                _("Description"),
                _("Received"),
            ],
            rows=[
                [
                    r.id,
                    _(r.source.value),
                    _(r.status.value),
                    r.person_name,
                    r.phone,
                    r.region_name,
                    r.address,
                    r.description,
                    r.created_at,
                ]
                for r in items
            ],
        )
        return await export(
            actor=actor, what="help_requests", sheet=sheet, fmt=fmt, filters=filters
        )

    @get("/audit")
    async def audit(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        format: FromQuery[str] = "csv",  # noqa: A002 - the query name
        entity: FromQuery[str] = "",
        action: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
    ) -> Response[bytes]:
        _ = gettext_for(request)
        fmt = export_format(format)
        filters = audit_filters(entity, action, since, until)
        entries, _total = await list_entries(user=actor, **filters, limit=MAX_EXPORT_ROWS, offset=0)
        sheet = Sheet(
            timezone=_zone(request),
            title=_("Audit trail"),
            headings=[
                _("When"),
                _("Who"),
                _("Action"),
                _("Record"),
                _("Region code"),
                _("Before"),
                _("After"),
            ],
            rows=[
                [
                    e.created_at,
                    e.actor_label,
                    e.action,
                    f"{e.entity} {e.entity_id}",
                    e.region_code or "",
                    json_text(e.before),
                    json_text(e.after),
                ]
                for e in entries
            ],
        )
        return await export(actor=actor, what="audit", sheet=sheet, fmt=fmt, filters=filters)

    @get("/rounds/{round_id:int}/proposals")
    async def proposals(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        round_id: FromPath[int],
        format: FromQuery[str] = "csv",  # noqa: A002 - the query name
        status: FromQuery[str] = "",
    ) -> Response[bytes]:
        """A round's proposals (404 outside one's jurisdiction), a status picked or all."""
        _ = gettext_for(request)
        fmt = export_format(format)
        filters = {"round": round_id, "status": _choice(status, ProposalStatus)}
        found: list[ProposalOut] = []
        while len(found) < MAX_EXPORT_ROWS:
            chunk = await decisions.list_proposals(
                actor=actor,
                round_id=round_id,
                page=Pagination(limit=MAX_LIMIT, offset=len(found)),
                status=filters["status"],
            )
            found.extend(chunk.items)
            if not chunk.items or len(found) >= chunk.total:
                break
        sheet = Sheet(
            timezone=_zone(request),
            title=_("Proposals of round %(id)d") % {"id": round_id},
            headings=[
                _("Number"),
                _("Household"),
                _("Category"),
                _("Item"),
                _("Quantity"),
                _("Distance (km)"),
                _("Charity"),
                _("Status"),
                _("Decision reason"),
            ],
            rows=[
                [
                    p.id,
                    p.household_reference,
                    labels.category_label(p.household_category, _),
                    item_label(request, p.item_code),
                    p.quantity,
                    round(p.distance_km, 1),
                    p.charity,
                    labels.status_label(p.status, "proposal", _),
                    p.decision_reason,
                ]
                for p in found
            ],
        )
        return await export(actor=actor, what="proposals", sheet=sheet, fmt=fmt, filters=filters)

    @get("/deliveries")
    async def deliveries(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        format: FromQuery[str] = "csv",  # noqa: A002 - the query name
        status: FromQuery[str] = "",
        township: FromQuery[str] = "",
        q: FromQuery[str] = "",
    ) -> Response[bytes]:
        """The jurisdiction's deliveries, one row per item, under the deliveries page's filters
        (status, township, a household reference or address); the recipient's name masked as
        the list masks it."""
        _ = gettext_for(request)
        fmt = export_format(format)
        filters = {
            "status": _choice(status, DeliveryStatus),
            "township": township if township.isdigit() else None,
            "q": q.strip()[:100] or None,
        }
        found: list[DeliveryOut] = []
        while len(found) < MAX_EXPORT_ROWS:
            chunk = await deliveries.list_deliveries(
                actor=actor,
                page=Pagination(limit=MAX_LIMIT, offset=len(found)),
                status=filters["status"],
            )
            found.extend(chunk.items)
            if not chunk.items or len(found) >= chunk.total:
                break
        rows = [
            d
            for d in found
            if (filters["township"] is None or d.region_code.startswith(filters["township"]))
            and (
                filters["q"] is None
                or filters["q"] in d.household_reference
                or filters["q"] in (d.address or "")
            )
        ]
        sheet = Sheet(
            timezone=_zone(request),
            title=_("Deliveries"),
            headings=[
                _("Number"),
                _("Household"),
                _("Recipient"),
                _("Phone"),
                _("County"),
                _("Township"),
                _("Address"),
                _("Item"),
                _("Quantity"),
                _("Status"),
                _("Emergency"),
                _("Confirmed"),
            ],
            rows=[
                [
                    d.id,
                    d.household_reference,
                    d.recipient or "",
                    d.phone or "",
                    d.county,
                    d.township,
                    d.address or "",
                    item_label(request, d.item_code),
                    d.quantity,
                    labels.status_label(d.status, "delivery", _),
                    _("yes") if d.emergency else "",
                    d.confirmed_at,
                ]
                for d in rows
            ],
        )
        return await export(actor=actor, what="deliveries", sheet=sheet, fmt=fmt, filters=filters)
