"""The JSON API of help requests (主动发现): report, triage queue, convert, close, import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, MultipartBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from nuanxin.guards import staff_and_admin
from nuanxin.help_requests import imports, services
from nuanxin.help_requests.schemas import (
    CloseRequest,
    Conversion,
    HelpRequestConversion,
    HelpRequestCreate,
    HelpRequestOut,
    HelpRequestReceived,
    ImportReport,
)
from nuanxin.help_requests.vocabulary import HelpRequestStatus, Source
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.settings import Settings

__all__ = ("HelpRequestController", "PublicHelpRequestController")

ERRORS = error_responses(400, 401, 403, 404, 409)
IMPORT_ERRORS = error_responses(400, 401, 403, 404, 409, 413)

IMPORT_DESCRIPTION = f"""\
Upload a CSV (UTF-8, with or without BOM; multipart form field `file`) of candidate households,
as the low-income monitoring platform (低收入人口动态监测信息平台) exports them. Each row lands
in the triage queue of the county or township where the person lives now (source `import`).

Columns (Chinese or English header; order free; other columns are ignored):

* `name` — 姓名 / 户主姓名 / name (required): the head of household
* `id_number` — 身份证号 / 身份证号码 / id_number: 18 characters, checked; kept only as a keyed
  hash and the last 4 characters
* `phone` — 电话 / 联系电话 / phone: digits, +, -
* `address` — 现住址 / 现居住地址 / address: where the person lives now, naming the county
* `region_code` — 区划代码 / 行政区划代码 / region_code: county (6 digits), township (9) or a
  12-digit statistical code (`address` or `region_code` is required; the code wins)
* `category` — 类别 / 救助类别 / category: 低保 / 特困 / 低保边缘 / 临时救助 (or dibao,
  extremely_poor, near_dibao, temporary)
* `members` — 人口 / 家庭人口 / members: household size, 1–20
* `description` — 情况说明 / 备注 / description: free text

Every row is checked; a row with any error (reported with its row number — the header is
row 1 —, the field and the message) is not imported at all, the good rows are. Rows outside
the importer's jurisdiction are errors. Limits: {imports.MAX_IMPORT_BYTES // (1024 * 1024)} MB
and {imports.MAX_IMPORT_ROWS:,} rows (413 beyond).
"""


@dataclass
class ImportUpload:
    """The import form: one CSV file in the field ``file`` (a form without it is a 400)."""

    file: UploadFile


class PublicHelpRequestController(Controller):
    """Anyone may report a person in difficulty."""

    path = "/api/help-requests/report"
    tags = ("help requests",)

    @post(
        "/",
        operation_id="ReportHelpRequest",
        exclude_from_auth=True,
        security=[{}],
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 403, 404, 409),
        summary="Report a person in difficulty (public, no login)",
        description=(
            "The report lands in the triage queue of the county where the person is now. "
            "Give `region_code` or an `address` naming the county; an unclear address is "
            "refused (400, field `address`) with the candidates."
        ),
    )
    async def report(self, data: JSONBody[HelpRequestCreate]) -> HelpRequestReceived:
        return await services.create_request(user=None, data=data, source=Source.public)


class HelpRequestController(Controller):
    """The triage queue of staff: requests where the person is now in their jurisdiction."""

    path = "/api/help-requests"
    tags = ("help requests",)
    guards = (staff_and_admin,)
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @get(
        "/",
        operation_id="ListHelpRequests",
        responses=ERRORS,
        summary="The triage queue of the jurisdiction (oldest first)",
    )
    async def list_requests(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: Annotated[HelpRequestStatus | None, QueryParameter(name="status")] = None,
        source: Annotated[Source | None, QueryParameter(name="source")] = None,
    ) -> Page[HelpRequestOut]:
        items, total = await services.list_requests(
            user=actor,
            status=status,
            source=source,
            limit=page.limit,
            offset=page.offset,
        )
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    @post(
        "/hotline",
        operation_id="LogHotlineCall",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Log a hotline call (lands where the person is now, in any jurisdiction)",
    )
    async def log_hotline_call(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[HelpRequestCreate]
    ) -> HelpRequestReceived:
        return await services.create_request(user=actor, data=data, source=Source.hotline)

    @post(
        "/import",
        operation_id="ImportHelpRequests",
        status_code=HTTP_200_OK,
        responses=IMPORT_ERRORS,
        request_max_body_size=imports.MAX_IMPORT_BYTES + 64 * 1024,
        summary="Import candidate households from a CSV into the triage queue",
        description=IMPORT_DESCRIPTION,
    )
    async def import_requests(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        data: MultipartBody[ImportUpload],
    ) -> ImportReport:
        try:
            content = await data.file.read()
        finally:
            await data.file.close()
        return await imports.import_candidates(
            user=actor, content=content, secret_key=settings.secret_key
        )

    @get(
        "/{request_id:int}",
        operation_id="GetHelpRequest",
        responses=ERRORS,
        summary="One help request (404 outside the jurisdiction)",
    )
    async def get_request(
        self, actor: NamedDependency[CurrentUser], request_id: FromPath[int]
    ) -> HelpRequestOut:
        return await services.get_request(user=actor, request_id=request_id)

    @post(
        "/{request_id:int}/convert",
        operation_id="ConvertHelpRequest",
        status_code=HTTP_201_CREATED,
        responses=ERRORS,
        summary="Register the household a request is about (it still needs verification)",
        description=(
            "The body is the household, as for CreateHousehold; `id_number` may be left out "
            "when the request was imported with one. Duplicates are refused (409) as on create."
        ),
    )
    async def convert(
        self,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        request_id: FromPath[int],
        data: JSONBody[HelpRequestConversion],
    ) -> Conversion:
        return await services.convert_request(
            user=actor, request_id=request_id, data=data, secret_key=settings.secret_key
        )

    @post(
        "/{request_id:int}/close",
        operation_id="CloseHelpRequest",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Close a request without a household, with the reason",
    )
    async def close(
        self,
        actor: NamedDependency[CurrentUser],
        request_id: FromPath[int],
        data: JSONBody[CloseRequest],
    ) -> HelpRequestOut:
        return await services.close_request(user=actor, request_id=request_id, data=data)
