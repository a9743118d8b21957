"""Staff pages of matching rounds: start one, watch its progress bar, approve, reject.

The round forms are read with ``request.form()`` on purpose: they carry repeated fields
(``item_codes``, ``proposal_id``) and one quantity field per proposal row
(``quantity_<id>``), which a fixed form struct cannot hold.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError, Invalid
from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.pagination import Pagination
from nuanxin.responses import status_of
from nuanxin.rounds import proposals as decisions
from nuanxin.rounds import services
from nuanxin.rounds.schemas import ApproveIn, ProposalEdit
from nuanxin.rounds.vocabulary import ProposalStatus
from nuanxin.web import PageController, done, form_error, gettext_for, item_label, page

__all__ = "RoundPages"

AnyRequest = Request[Any, Any, Any]
PROPOSALS_SHOWN = 200


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit()]


async def _round_page(
    request: AnyRequest,
    actor: CurrentUser,
    round_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    found = await services.get_round(actor=actor, round_id=round_id)
    proposals = await decisions.list_proposals(
        actor=actor, round_id=round_id, page=Pagination(limit=PROPOSALS_SHOWN, offset=0)
    )
    items = {item.code: item for item in await offers.list_items()}
    points = [
        {
            "lat": p.lat,
            "lon": p.lon,
            "kind": "proposal",
            "label": f"{p.household_reference} · {item_label(request, p.item_code)} × {p.quantity}",
        }
        for p in proposals.items
    ]
    return page(
        request,
        "staff/round.html.j2",
        {
            "r": found,
            "proposals": proposals,
            "items": items,
            "points": points,
            "error": error,
            "open_count": sum(1 for p in proposals.items if p.status == ProposalStatus.proposed),
        },
        status_code=status_code,
    )


class RoundPages(PageController):
    path = "/staff/rounds"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        rounds = await services.list_rounds(actor=actor, page=Pagination(limit=20, offset=0))
        return page(
            request,
            "staff/rounds.html.j2",
            {"rounds": rounds, "items": await offers.list_items(), "error": None},
        )

    @post("/", status_code=303)
    async def start(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser]
    ) -> Template | Redirect:
        form = await request.form()
        try:
            round_id = await services.start_round(
                actor=actor, item_codes=[str(v) for v in form.getall("item_codes", [])]
            )
        except DomainError as exc:
            rounds = await services.list_rounds(actor=actor, page=Pagination(limit=20, offset=0))
            return page(
                request,
                "staff/rounds.html.j2",
                {
                    "rounds": rounds,
                    "items": await offers.list_items(),
                    "error": form_error(request, exc),
                },
                status_code=status_of(exc),
            )
        return Redirect(f"/staff/rounds/{round_id}", status_code=303)  # a worker runs it

    @get("/{round_id:int}")
    async def detail(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Template:
        return await _round_page(request, actor, round_id)

    @get("/{round_id:int}/progress")
    async def progress(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Template:
        """The progress bar alone (polled by htmx, or by app.js without htmx)."""
        found = await services.get_round(actor=actor, round_id=round_id)
        return page(request, "staff/round_progress.html.j2", {"r": found})

    @post("/{round_id:int}/approve", status_code=303)
    async def approve(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Template | Redirect:
        """Approve all, or the ticked rows; a changed quantity is an edit of that proposal."""
        _ = gettext_for(request)
        form = await request.form()
        chosen = _ints([str(v) for v in form.getall("proposal_id", [])])
        edits: list[ProposalEdit] = []
        plain: list[int] = []
        try:
            for proposal_id in chosen:
                wanted = str(form.get(f"quantity_{proposal_id}", "")).strip()
                original = str(form.get(f"original_{proposal_id}", "")).strip()
                if wanted and wanted != original:
                    edits.append(
                        msgspec.convert(
                            {"proposal_id": proposal_id, "quantity": int(wanted)}, ProposalEdit
                        )
                    )
                else:
                    plain.append(proposal_id)
            data = ApproveIn(all=form.get("all") == "1", proposal_ids=plain, edits=edits)
            result = await decisions.approve(actor=actor, round_id=round_id, data=data)
        except (DomainError, msgspec.ValidationError, ValueError) as exc:
            return await _round_page(
                request, actor, round_id, error=form_error(request, exc), status_code=400
            )
        message = _("Approved: %(approved)d. Already approved: %(already)d. Stale: %(stale)d.") % {
            "approved": len(result.approved),
            "already": len(result.already_approved),
            "stale": len(result.stale),
        }
        return done(request, message, f"/staff/rounds/{round_id}")

    @post("/{round_id:int}/reject", status_code=303)
    async def reject(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Template | Redirect:
        _ = gettext_for(request)
        form = await request.form()
        chosen = _ints([str(v) for v in form.getall("proposal_id", [])])
        reason = str(form.get("reason", "")).strip()
        try:
            if not chosen:
                raise Invalid(_("Tick the proposals to reject"))
            if not reason:
                raise Invalid(_("Give a reason"), field="reason")
            rejected = await decisions.reject(
                actor=actor,
                round_id=round_id,
                proposal_ids=chosen,
                reason=reason[:300],
            )
        except DomainError as exc:
            return await _round_page(
                request, actor, round_id, error=form_error(request, exc), status_code=400
            )
        return done(
            request, _("Rejected: %(n)d.") % {"n": len(rejected)}, f"/staff/rounds/{round_id}"
        )
