"""Staff pages of help requests (主动发现): the triage queue, CSV import with its row errors,
registering the household a request is about, and closing one with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError
from nuanxin.guards import staff_and_admin
from nuanxin.help_requests import imports, services
from nuanxin.help_requests.schemas import CloseRequest, HelpRequestConversion, ImportReport
from nuanxin.help_requests.vocabulary import HelpRequestStatus, Source
from nuanxin.households.vocabulary import Category, Tag
from nuanxin.identity import CurrentUser
from nuanxin.settings import Settings
from nuanxin.web import PageController, done, form_error, gettext_for, page

__all__ = ("HelpRequestPages",)

AnyRequest = Request[Any, Any, Any]
PER_PAGE = 50


@dataclass
class ImportForm:
    """The import form (multipart): one CSV in ``file`` (the page says so when it is missing)."""

    file: UploadFile | None = None


class ConversionForm(msgspec.Struct, kw_only=True):
    """The household form as typed; :meth:`household` checks it as the API's DTO."""

    category: str = ""
    head_name: str = ""
    phone: str = ""
    current_address: str = ""
    region_code: str = ""
    birth_years: str = ""  # one per member, comma-separated
    lives_alone: str = ""  # "1" when ticked
    tags: str | list[str] = msgspec.field(default_factory=list)  # one ticked box is a str
    id_number: str = ""

    def household(self) -> HelpRequestConversion:
        years = [y for y in self.birth_years.replace("，", ",").split(",") if y.strip()]
        fields: dict[str, Any] = {
            "category": self.category,
            "head_name": self.head_name.strip(),
            "phone": self.phone.strip(),
            "current_address": self.current_address.strip(),
            "region_code": self.region_code.strip(),
            "members": [
                {"birth_year": int(year.strip()), "relation": "self" if i == 0 else "other"}
                for i, year in enumerate(years)
            ],
            "lives_alone": self.lives_alone == "1",
            "tags": [self.tags] if isinstance(self.tags, str) else list(self.tags),
        }
        if self.id_number.strip():
            fields["id_number"] = self.id_number.strip()
        return msgspec.convert(fields, HelpRequestConversion)


class CloseForm(msgspec.Struct, kw_only=True):
    reason: str = ""


class HelpRequestPages(PageController):
    path = "/staff/help-requests"
    guards = [staff_and_admin]  # noqa: RUF012

    async def _index(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        *,
        report: ImportReport | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        query = request.query_params
        status = query.get("status", HelpRequestStatus.open.value)
        source = query.get("source") or None
        items, total = await services.list_requests(
            user=actor,
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
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        return await self._index(request, actor)

    @post("/import", request_max_body_size=imports.MAX_IMPORT_BYTES + 64 * 1024)
    async def import_csv(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: Annotated[ImportForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template:
        """Import a CSV (UTF-8 or GB18030) or .xlsx; show the report with every row error
        (good rows are imported)."""
        _ = gettext_for(request)
        upload = data.file
        if not isinstance(upload, UploadFile):
            return await self._index(
                request, actor, error=_("Choose a CSV or Excel file"), status_code=400
            )
        try:
            content = await upload.read()
        finally:
            await upload.close()
        try:
            report = await imports.import_candidates(
                user=actor, content=content, secret_key=settings.secret_key
            )
        except DomainError as exc:
            return await self._index(
                request, actor, error=form_error(request, exc), status_code=400
            )
        return await self._index(request, actor, report=report)

    async def _one(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        request_id: int,
        error: str | None = None,
        status: int = 200,
    ) -> Template:
        found = await services.get_request(user=actor, request_id=request_id)
        return page(
            request,
            "staff/help_request.html.j2",
            {"r": found, "categories": list(Category), "tags": list(Tag), "error": error},
            status_code=status,
        )

    @get("/{request_id:int}")
    async def one(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], request_id: FromPath[int]
    ) -> Template:
        return await self._one(request, actor, request_id)

    @post("/{request_id:int}/convert", status_code=303)
    async def convert(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        request_id: FromPath[int],
        data: Annotated[ConversionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            converted = await services.convert_request(
                user=actor,
                request_id=request_id,
                data=data.household(),
                secret_key=settings.secret_key,
            )
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await self._one(request, actor, request_id, form_error(request, exc), 400)
        household = converted.household
        return done(
            request,
            _("Household %(ref)s registered; verify it next.") % {"ref": household.reference},
            f"/staff/households/{household.id}",
        )

    @post("/{request_id:int}/close", status_code=303)
    async def close(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        request_id: FromPath[int],
        data: Annotated[CloseForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            closing = msgspec.convert({"reason": data.reason.strip()}, CloseRequest)
            await services.close_request(user=actor, request_id=request_id, data=closing)
        except (DomainError, msgspec.ValidationError) as exc:
            return await self._one(request, actor, request_id, form_error(request, exc), 400)
        return done(
            request, _("Request #%(id)d closed.") % {"id": request_id}, "/staff/help-requests"
        )
