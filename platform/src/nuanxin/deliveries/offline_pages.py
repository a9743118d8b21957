"""The offline courier screen's service worker, and the staff queue of codes typed offline.

* ``/courier-sw.js``: the service worker (``frontend/static/courier-sw.js``, Workbox from
  ``/static/vendor/``), served from the site's root so that its scope can be ``/courier``
  (the list as well as the visit pages). Public: it is a static script.
* ``/staff/offline-reviews``: the confirmations typed without a network that could not close
  their visit (a wrong code, a locked visit, a code after a wrong one), oldest first; staff
  settle each on its own page (:func:`offline.resolve_review`, as the API's
  ``ResolveOfflineReview``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template

from nuanxin.deliveries import offline, visits
from nuanxin.deliveries.schemas import ReviewResolveIn
from nuanxin.deliveries.vocabulary import ReviewReason, ReviewStatus
from nuanxin.errors import DomainError
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser
from nuanxin.pagination import Pagination
from nuanxin.safety.services import SafetyPolicy
from nuanxin.settings import ROOT, Settings
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("CourierWorkerPage", "StaffOfflineReviewPages")

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
WORKER = ROOT / "frontend" / "static" / "courier-sw.js"
PER_PAGE = 50

#: What each reason and status is called on the pages.
REASONS = {
    ReviewReason.wrong_code: N_("The code typed at the door is not the slip's"),
    ReviewReason.locked: N_("The visit was locked by wrong codes meanwhile"),
    ReviewReason.held: N_("Typed after a wrong code for the same visit"),
}
STATUSES = {
    ReviewStatus.open: N_("Waiting for staff"),
    ReviewStatus.delivered: N_("Confirmed as delivered"),
    ReviewStatus.dismissed: N_("Dismissed: not delivered"),
}
OUTCOMES = {
    ReviewStatus.delivered: N_("Delivered: the household confirmed it had the goods"),
    ReviewStatus.dismissed: N_("Not delivered: the visit stays open"),
}


class ResolveForm(msgspec.Struct, kw_only=True):
    outcome: str = ""
    note: str = ""


class CourierWorkerPage(PageController):
    """The courier screen's service worker script."""

    path = "/courier-sw.js"

    @get("/", exclude_from_auth=True, media_type="text/javascript")
    async def worker(self) -> Response[bytes]:
        return Response(
            WORKER.read_bytes(),
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/courier"},
        )


class StaffOfflineReviewPages(PageController):
    """Codes typed offline that wait for staff: the queue, and each one settled on its page."""

    path = "/staff/offline-reviews"
    guards = [staff_and_admin]  # noqa: RUF012

    def _words(self, request: AnyRequest) -> dict[str, Any]:
        _ = gettext_for(request)
        return {
            "reasons": {k.value: _(v) for k, v in REASONS.items()},
            "statuses": {k.value: _(v) for k, v in STATUSES.items()},
        }

    @get("/")
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        wanted = request.query_params.get("status") or ReviewStatus.open.value
        status = ReviewStatus(wanted) if wanted in set(ReviewStatus) else ReviewStatus.open
        raw_offset = request.query_params.get("offset") or "0"
        offset = int(raw_offset) if raw_offset.isdigit() else 0
        found = await offline.list_reviews(
            actor=actor, page=Pagination(limit=PER_PAGE, offset=offset), status=status
        )
        return page(
            request,
            "staff/offline_reviews.html.j2",
            {"found": found, "status": status.value, **self._words(request)},
        )

    async def _one(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        review_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        _ = gettext_for(request)
        review = await offline.get_review(actor=actor, review_id=review_id)
        visit = await visits.get_visit(actor=actor, visit_id=review.visit_id)
        return page(
            request,
            "staff/offline_review.html.j2",
            {
                "r": review,
                "v": visit,
                "form": form or blank(),
                "outcomes": [(k.value, _(v)) for k, v in OUTCOMES.items()],
                **self._words(request),
            },
            status_code=status_code,
        )

    @get("/{review_id:int}")
    async def one(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], review_id: FromPath[int]
    ) -> Template:
        return await self._one(request, actor, review_id)

    @post("/{review_id:int}/resolve", status_code=303)
    async def resolve(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        review_id: FromPath[int],
        data: Annotated[ResolveForm, URL_FORM],
    ) -> Template | Redirect:
        """Settle the held confirmation once: delivered, or dismissed (audited)."""
        _ = gettext_for(request)
        problems: dict[str, str] = {}
        if data.outcome not in {k.value for k in OUTCOMES}:
            problems["outcome"] = _("Choose what the household said")
        note = data.note.strip()
        if not note:
            problems["note"] = _("Say what was checked: who called the household, when")
        elif len(note) > 300:
            problems["note"] = _("The note is too long: 300 characters at most")
        if problems:
            form = FormState(values=msgspec.structs.asdict(data), errors=problems)
            return await self._one(request, actor, review_id, form, 400)
        try:
            await offline.resolve_review(
                actor=actor,
                review_id=review_id,
                data=ReviewResolveIn(outcome=data.outcome, note=note),
                policy=SafetyPolicy.of(settings),
            )
        except DomainError as exc:
            form = refused(request, exc, data)
            form = FormState(values=form.values, errors={"": next(iter(form.errors.values()))})
            return await self._one(request, actor, review_id, form, 400)
        return done(
            request,
            _("The code typed offline (no. %(id)d) is settled.") % {"id": review_id},
            "/staff/offline-reviews",
        )
