"""The JSON API of matching rounds: start, watch progress, read proposals, approve, reject."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Response
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses
from nuanxin.rounds import proposals, services
from nuanxin.rounds.schemas import ApprovalOut, ApproveIn, ProposalOut, RejectIn, RoundIn, RoundOut

__all__ = "RoundController"

ERRORS = error_responses(400, 401, 403, 404, 409)
Status = Annotated[
    str | None,
    QueryParameter(pattern=r"^(proposed|approved|rejected|stale)$", required=False),
]


class RoundController(Controller):
    path = "/api/rounds"
    tags = ("rounds",)
    guards = [staff_and_admin]  # noqa: RUF012 - Litestar's controller attribute
    dependencies = {"page": Provide(provide_pagination)}  # noqa: RUF012

    @post(
        operation_id="StartRound",
        status_code=HTTP_202_ACCEPTED,
        responses=ERRORS,
        summary="Start a matching round over my jurisdiction; poll it for progress",
    )
    async def start(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[RoundIn]
    ) -> Response[RoundOut]:
        round_id = await services.start_round(
            actor=actor, item_codes=data.item_codes, time_limit_s=data.time_limit_s
        )
        out = await services.get_round(actor=actor, round_id=round_id)
        return Response(out, status_code=HTTP_202_ACCEPTED)  # a worker runs it

    @get(operation_id="ListRounds", responses=ERRORS, summary="Rounds of my jurisdiction")
    async def list_all(
        self, actor: NamedDependency[CurrentUser], page: NamedDependency[Pagination]
    ) -> Page[RoundOut]:
        return await services.list_rounds(actor=actor, page=page)

    @get(
        "/{round_id:int}",
        operation_id="GetRound",
        responses=ERRORS,
        summary="A round and its progress",
    )
    async def get_one(
        self, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> RoundOut:
        return await services.get_round(actor=actor, round_id=round_id)

    @post(
        "/{round_id:int}/retry",
        operation_id="RetryRound",
        status_code=HTTP_202_ACCEPTED,
        responses=ERRORS,
        summary="Run a failed or interrupted round again",
    )
    async def retry(
        self, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Response[RoundOut]:
        await services.retry_round(actor=actor, round_id=round_id)
        out = await services.get_round(actor=actor, round_id=round_id)
        return Response(out, status_code=HTTP_202_ACCEPTED)  # a worker runs it

    @get(
        "/{round_id:int}/proposals",
        operation_id="ListProposals",
        responses=ERRORS,
        summary="The round's proposals, each with the engine's reason",
    )
    async def proposals(
        self,
        actor: NamedDependency[CurrentUser],
        round_id: FromPath[int],
        page: NamedDependency[Pagination],
        status: Status = None,
    ) -> Page[ProposalOut]:
        return await proposals.list_proposals(
            actor=actor, round_id=round_id, page=page, status=status
        )

    @post(
        "/{round_id:int}/approve",
        operation_id="ApproveProposals",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Approve all, some or edited proposals; stale ones are reported",
    )
    async def approve(
        self,
        actor: NamedDependency[CurrentUser],
        round_id: FromPath[int],
        data: JSONBody[ApproveIn],
    ) -> ApprovalOut:
        return await proposals.approve(actor=actor, round_id=round_id, data=data)

    @post(
        "/{round_id:int}/reject",
        operation_id="RejectProposals",
        status_code=HTTP_200_OK,
        responses=ERRORS,
        summary="Reject proposals with a reason",
    )
    async def reject(
        self, actor: NamedDependency[CurrentUser], round_id: FromPath[int], data: JSONBody[RejectIn]
    ) -> list[int]:
        return await proposals.reject(
            actor=actor,
            round_id=round_id,
            proposal_ids=data.proposal_ids,
            reason=data.reason,
        )
