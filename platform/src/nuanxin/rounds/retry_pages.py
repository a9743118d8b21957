"""Staff run a failed matching round again, from the round's page or the list of rounds.

Kept apart from :mod:`nuanxin.rounds.pages` (the review page): the same service as the API's
``RetryRound`` (:func:`nuanxin.rounds.services.retry_round`).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from nuanxin.guards import staff_and_admin
from nuanxin.identity import CurrentUser
from nuanxin.rounds import services
from nuanxin.web import PageController, done, gettext_for

__all__ = ("RoundRetryPages",)

AnyRequest = Request[Any, Any, Any]


class RoundRetryPages(PageController):
    path = "/staff/rounds/{round_id:int}/retry"
    guards = [staff_and_admin]  # noqa: RUF012

    @post("/", status_code=303)
    async def retry(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], round_id: FromPath[int]
    ) -> Redirect:
        """Queue the round again; its page follows the new run (a round not failed: 409 page)."""
        _ = gettext_for(request)
        await services.retry_round(actor=actor, round_id=round_id)
        return done(
            request,
            _("Round #%(id)d runs again; this page follows it.") % {"id": round_id},
            f"/staff/rounds/{round_id}",
        )
