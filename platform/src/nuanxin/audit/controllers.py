"""The JSON API of the audit area: reading the trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter

from nuanxin.audit import services
from nuanxin.audit.schemas import AuditEntryOut
from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses

__all__ = ("AuditController",)


class AuditController(Controller):
    path = "/api/audit"
    tags = ("audit",)
    guards = (staff_and_admin,)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        "/",
        operation_id="ListAuditEntries",
        responses=error_responses(400, 401, 403),
        summary="Read the audit trail (staff: their jurisdiction's records; admins: all)",
        description=(
            "Newest first. Filters: `entity` (household, need, help_request, import ...), "
            "`action` (household.verify ...), `since`/`until` (ISO 8601 date-times, inclusive)."
        ),
    )
    async def list_entries(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        entity: Annotated[str | None, QueryParameter(name="entity", max_length=40)] = None,
        action: Annotated[str | None, QueryParameter(name="action", max_length=60)] = None,
        since: Annotated[datetime | None, QueryParameter(name="since")] = None,
        until: Annotated[datetime | None, QueryParameter(name="until")] = None,
    ) -> Page[AuditEntryOut]:
        records, total = await services.list_entries(
            user=actor,
            entity=entity,
            action=action,
            since=since,
            until=until,
            limit=page.limit,
            offset=page.offset,
        )
        items = [
            AuditEntryOut(
                id=r.id,
                actor_id=r.actor_id,
                actor_label=r.actor_label,
                action=r.action,
                entity=r.entity,
                entity_id=r.entity_id,
                region_code=r.region_code,
                before=r.before,
                after=r.after,
                created_at=r.created_at,
            )
            for r in records
        ]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)
