"""Staff pages of help requests (主动发现): the triage queue, CSV import with its row errors,
registering the household a request is about, and closing one with a reason."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError
from nuanxin.guards import current_user, staff_and_admin
from nuanxin.help_requests import services
from nuanxin.help_requests.schemas import CloseRequest, HelpRequestConversion, ImportReport
from nuanxin.help_requests.tables import HelpRequestStatus, Source
from nuanxin.households.schemas import Tag
from nuanxin.households.tables import Category
from nuanxin.web import PageController, done, form_error, gettext_for, page

__all__ = "HelpRequestPages"

AnyRequest = Request[Any, Any, Any]
PER_PAGE = 50


def _conversion(form: Any) -> HelpRequestConversion:
    """The household form as the API's DTO (members: one birth year each, comma-separated)."""
    years = [y for y in str(form.get("birth_years", "")).replace("，", ",").split(",") if y.strip()]
    fields: dict[str, Any] = {
        "category": str(form.get("category", "")),
        "head_name": str(form.get("head_name", "")).strip(),
        "phone": str(form.get("phone", "")).strip(),
        "current_address": str(form.get("current_address", "")).strip(),
        "region_code": str(form.get("region_code", "")).strip(),
        "members": [
            {"birth_year": int(year.strip()), "relation": "self" if i == 0 else "other"}
            for i, year in enumerate(years)
        ],
        "lives_alone": form.get("lives_alone") == "1",
        "tags": [str(tag) for tag in form.getall("tags", [])],
    }
    id_number = str(form.get("id_number", "")).strip()
    if id_number:
        fields["id_number"] = id_number
    return msgspec.convert(fields, HelpRequestConversion)


class HelpRequestPages(PageController):
    path = "/staff/help-requests"
    guards = [staff_and_admin]  # noqa: RUF012

    async def _index(
        self,
        request: AnyRequest,
        *,
        report: ImportReport | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        query = request.query_params
        status = query.get("status", "open")
        source = query.get("source") or None
        items, total = await services.list_requests(
            user=current_user(request),
            status=HelpRequestStatus(status)
            if status in {s.value for s in HelpRequestStatus}
            else None,
            source=Source(source) if source in {s.value for s in Source} else None,
            limit=PER_PAGE,
            offset=0,
        )
        return page(
            request,
            "staff/help_requests.html.j2",
            {
                "items": items,
                "total": total,
                "status": status,
                "source": source,
                "statuses": list(HelpRequestStatus),
                "sources": list(Source),
                "report": report,
                "error": error,
            },
            status_code=status_code,
        )

    @get("/")
    async def index(self, request: AnyRequest) -> Template:
        return await self._index(request)

    @post("/import", request_max_body_size=services.MAX_IMPORT_BYTES + 64 * 1024)
    async def import_csv(self, request: AnyRequest) -> Template:
        """Import a CSV; show the report with every row error (good rows are imported)."""
        _ = gettext_for(request)
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return await self._index(request, error=_("Choose a CSV file"), status_code=400)
        try:
            content = await upload.read()
        finally:
            await upload.close()
        try:
            report = await services.import_candidates(
                user=current_user(request),
                content=content,
                secret_key=request.app.state.settings.secret_key,
            )
        except DomainError as exc:
            return await self._index(request, error=form_error(request, exc), status_code=400)
        return await self._index(request, report=report)

    async def _one(
        self, request: AnyRequest, request_id: int, error: str | None = None, status: int = 200
    ) -> Template:
        found = await services.get_request(user=current_user(request), request_id=request_id)
        return page(
            request,
            "staff/help_request.html.j2",
            {"r": found, "categories": list(Category), "tags": list(Tag), "error": error},
            status_code=status,
        )

    @get("/{request_id:int}")
    async def one(self, request: AnyRequest, request_id: FromPath[int]) -> Template:
        return await self._one(request, request_id)

    @post("/{request_id:int}/convert", status_code=303)
    async def convert(self, request: AnyRequest, request_id: FromPath[int]) -> Template | Redirect:
        _ = gettext_for(request)
        form = await request.form()
        try:
            converted = await services.convert_request(
                user=current_user(request),
                request_id=request_id,
                data=_conversion(form),
                secret_key=request.app.state.settings.secret_key,
            )
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._one(request, request_id, form_error(request, exc), 400)
        household = converted.household
        return done(
            request,
            _("Household %(ref)s registered; verify it next.") % {"ref": household.reference},
            f"/staff/households/{household.id}",
        )

    @post("/{request_id:int}/close", status_code=303)
    async def close(self, request: AnyRequest, request_id: FromPath[int]) -> Template | Redirect:
        _ = gettext_for(request)
        form = await request.form()
        try:
            data = msgspec.convert({"reason": str(form.get("reason", "")).strip()}, CloseRequest)
            await services.close_request(
                user=current_user(request), request_id=request_id, data=data
            )
        except (DomainError, msgspec.ValidationError) as exc:
            return await self._one(request, request_id, form_error(request, exc), 400)
        return done(
            request, _("Request #%(id)d closed.") % {"id": request_id}, "/staff/help-requests"
        )
