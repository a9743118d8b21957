"""Staff pages of matching rounds: start one, watch its progress bar, approve, reject.

The round forms are read with ``request.form()`` on purpose: they carry repeated fields
(``item_codes``, ``proposal_id``) and one quantity field per proposal row
(``quantity_<id>``), which a fixed form struct cannot hold.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from nuanxin.errors import DomainError
from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.pagination import Pagination
from nuanxin.responses import status_of
from nuanxin.rounds import proposals as decisions
from nuanxin.rounds import review as reviewing
from nuanxin.rounds import services
from nuanxin.rounds.schemas import ApproveIn, ProposalEdit, ReviewFilters
from nuanxin.rounds.vocabulary import ProposalStatus, RoundStatus
from nuanxin.web import PageController, done, form_error, gettext_for, item_label, page

__all__ = "RoundPages"

AnyRequest = Request[Any, Any, Any]


def _ints(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.strip().isdigit()]


def _filters(params: Any, items: set[str]) -> ReviewFilters:
    """The review's filters from a query string (or a form's ``f_`` fields); unknown ones drop."""
    township = str(params.get("township") or "").strip()
    item = str(params.get("item") or "").strip()
    charity = str(params.get("charity") or "").strip()
    status = str(params.get("status") or "").strip()
    return ReviewFilters(
        township=township if township.isdigit() else None,
        item_code=item if item in items else None,
        organization_id=int(charity) if charity.isdigit() else None,
        status=status if status in set(ProposalStatus) else None,
    )


def _query(filters: ReviewFilters, page: int = 1) -> str:
    """The query string that shows these filters (and page) again."""
    pairs = {
        "township": filters.township or "",
        "item": filters.item_code or "",
        "charity": "" if filters.organization_id is None else str(filters.organization_id),
        "status": filters.status or "",
        "page": str(page) if page > 1 else "",
    }
    return urlencode({key: value for key, value in pairs.items() if value})


def _page_number(params: Any) -> int:
    text = str(params.get("page") or "1").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else 1


async def _round_page(
    request: AnyRequest,
    actor: CurrentUser,
    round_id: int,
    *,
    filters: ReviewFilters | None = None,
    page_number: int = 1,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    reason: str = "",
    status_code: int = 200,
) -> Template:
    found = await services.get_round(actor=actor, round_id=round_id)
    items = {item.code: item for item in await offers.list_items()}
    if filters is None:
        filters = _filters(request.query_params, set(items))
        page_number = _page_number(request.query_params)
    context: dict[str, Any] = {
        "r": found,
        "items": items,
        "error": error,
        "errors": errors or {},
        "reason": reason,
        "filters": filters,
        "query": _query(filters, page_number),
        "filtered": filters != ReviewFilters(),
    }
    if found.status in (RoundStatus.proposed, RoundStatus.closed):
        review = await reviewing.review_page(
            actor=actor, round_id=round_id, filters=filters, page=page_number
        )
        context |= {
            "summary": await reviewing.summarize(actor=actor, round_id=round_id),
            "review": review,
            "page_links": [(n, f"?{_query(filters, n)}") for n in range(1, review.pages + 1)],
            "points": [
                {
                    "lat": p.lat,
                    "lon": p.lon,
                    "kind": "proposal",
                    "label": f"{h.reference} · {item_label(request, p.item_code)} × {p.quantity}",
                }
                for h in review.households
                for p in h.proposals[:1]
            ],
            "open_here": sum(
                1
                for h in review.households
                for p in h.proposals
                if p.status == ProposalStatus.proposed
            ),
        }
    return page(request, "staff/round.html.j2", context, status_code=status_code)


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
        """Approve the ticked rows (a changed quantity is an edit), or all open proposals
        once the confirmation page has said how many and what they reserve."""
        _ = gettext_for(request)
        form = await request.form()
        filters, page_number, back = await _back(form)
        if form.get("all") == "1" and form.get("confirmed") != "1":
            try:
                preview = await reviewing.approval_preview(actor=actor, round_id=round_id)
            except DomainError as exc:
                return await _round_page(
                    request,
                    actor,
                    round_id,
                    filters=filters,
                    page_number=page_number,
                    error=form_error(request, exc),
                    status_code=409,
                )
            found = await services.get_round(actor=actor, round_id=round_id)
            return page(
                request,
                "staff/round_approve_all.html.j2",
                {"r": found, "preview": preview, "back": back},
            )
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
                request,
                actor,
                round_id,
                filters=filters,
                page_number=page_number,
                error=form_error(request, exc),
                status_code=400,
            )
        message = _("Approved: %(approved)d. Already approved: %(already)d. Stale: %(stale)d.") % {
            "approved": len(result.approved),
            "already": len(result.already_approved),
            "stale": len(result.stale),
        }
        return done(request, await _closing(request, round_id, message), _target(round_id, back))

    @post("/{round_id:int}/reject", status_code=303)
    async def reject(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Template | Redirect:
        """Reject the ticked rows with a reason (said beside its field when missing)."""
        _ = gettext_for(request)
        form = await request.form()
        filters, page_number, back = await _back(form)
        chosen = _ints([str(v) for v in form.getall("proposal_id", [])])
        reason = str(form.get("reason", "")).strip()
        errors: dict[str, str] = {}
        if not chosen:
            errors["proposals"] = str(_("Tick the proposals to reject"))
        if not reason:
            errors["reject-reason"] = str(_("Give a reason"))
        if errors:
            return await _round_page(
                request,
                actor,
                round_id,
                filters=filters,
                page_number=page_number,
                errors=errors,
                reason=reason,
                status_code=400,
            )
        try:
            rejected = await decisions.reject(
                actor=actor, round_id=round_id, proposal_ids=chosen, reason=reason[:300]
            )
        except DomainError as exc:
            return await _round_page(
                request,
                actor,
                round_id,
                filters=filters,
                page_number=page_number,
                error=form_error(request, exc),
                reason=reason,
                status_code=400,
            )
        message = _("Rejected: %(n)d.") % {"n": len(rejected)}
        return done(request, await _closing(request, round_id, message), _target(round_id, back))


async def _back(form: Any) -> tuple[ReviewFilters, int, str]:
    """The view the form was posted from (its ``back`` field), cleaned: filters, page, query."""
    raw = {key: values[-1] for key, values in parse_qs(str(form.get("back", ""))[:500]).items()}
    items = {item.code for item in await offers.list_items()}
    filters = _filters(raw, items)
    number = _page_number(raw)
    return filters, number, _query(filters, number)


def _target(round_id: int, back: str) -> str:
    return f"/staff/rounds/{round_id}" + (f"?{back}" if back else "")


async def _closing(request: AnyRequest, round_id: int, message: str) -> str:
    """The decision's message, and that the round closed when it did."""
    _ = gettext_for(request)
    status = await services.round_status(round_id)
    if status == RoundStatus.closed:
        return message + " " + str(_("Every proposal is decided: the round is closed."))
    return message
