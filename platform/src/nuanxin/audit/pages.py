"""The audit trail for staff (their jurisdiction's entries) and admins (every entry): filters
by record kind, action and dates, 50 entries a page, newest first, and exports."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from nuanxin.audit.services import list_entries
from nuanxin.export_pages import audit_filters
from nuanxin.exporting import json_text
from nuanxin.guards import staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser
from nuanxin.web import PageController, page

__all__ = ("AuditPages",)

PER_PAGE = 50

#: The kinds of record the trail speaks of, with their names for the filter.
ENTITIES = {
    "household": N_("entity_household"),
    "need": N_("entity_need"),
    "help_request": N_("entity_help_request"),
    "import": N_("entity_import"),
    "escalation": N_("entity_escalation"),
    "organization": N_("entity_organization"),
    "account": N_("entity_account"),
    "warehouse": N_("entity_warehouse"),
    "offer": N_("entity_offer"),
    "round": N_("entity_round"),
    "proposal": N_("entity_proposal"),
    "allocation": N_("entity_allocation"),
    "delivery": N_("entity_delivery"),
    "visit": N_("entity_visit"),
    "delivery_case": N_("entity_delivery_case"),
    "safety_follow_up": N_("entity_safety_follow_up"),
    "purchase_advice": N_("entity_purchase_advice"),
    "region": N_("entity_region"),
    "campaign": N_("entity_campaign"),
    "donation": N_("entity_donation"),
    "purchase": N_("entity_purchase"),
    "export": N_("entity_export"),
}


class AuditPages(PageController):
    path = "/staff/audit"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[CurrentUser],
        entity: FromQuery[str] = "",
        action: FromQuery[str] = "",
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        offset: FromQuery[int] = 0,
    ) -> Template:
        filters = audit_filters(entity, action, since, until)
        offset = max(offset, 0)
        entries, total = await list_entries(user=actor, **filters, limit=PER_PAGE, offset=offset)
        typed = {"entity": entity, "action": action, "since": since, "until": until}
        kept = {k: v for k, v in typed.items() if v}
        return page(
            request,
            "staff/audit.html.j2",
            {
                "entries": [
                    {"e": e, "before": json_text(e.before), "after": json_text(e.after)}
                    for e in entries
                ],
                "total": total,
                "offset": offset,
                "per_page": PER_PAGE,
                "typed": typed,
                "entities": ENTITIES,
                "bad_dates": [k for k in ("since", "until") if typed[k] and not filters[k]],
                "query": urlencode(kept),
                "page_url": lambda o: "?" + urlencode({**kept, "offset": o}),
            },
        )
