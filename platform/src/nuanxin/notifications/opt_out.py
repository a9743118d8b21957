"""A donor's way out: the link at the end of every email to a donor opens this page.

The link carries the recipient and a keyed token that only the platform can make
(:func:`~nuanxin.notifications.preferences.opt_out_token`): no account, no guessing. The page
asks to confirm (a link opened by a mail scanner changes nothing); the confirmation opts the
address out of every message.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template

from nuanxin.notifications.preferences import opt_out_token, set_preference
from nuanxin.settings import Settings
from nuanxin.web import PageController, page

__all__ = ("OptOutPages",)

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


class OptOutForm(msgspec.Struct, kw_only=True):
    r: str = ""
    t: str = ""


def _valid(settings: Settings, recipient: str, token: str) -> bool:
    if not recipient.startswith("email:") or len(recipient) > 60 or not token:
        return False
    return secrets.compare_digest(opt_out_token(settings.secret_key, recipient), token)


class OptOutPages(PageController):
    path = "/notifications/opt-out"

    @get("/", exclude_from_auth=True)
    async def ask(
        self,
        request: AnyRequest,
        settings: NamedDependency[Settings],
        r: FromQuery[str] = "",
        t: FromQuery[str] = "",
    ) -> Template:
        valid = _valid(settings, r, t)
        return page(
            request,
            "notifications/opt_out.html.j2",
            {"state": "ask" if valid else "invalid", "r": r, "t": t},
            status_code=200 if valid or not (r or t) else 400,
        )

    @post("/", exclude_from_auth=True, status_code=200)
    async def confirm(
        self,
        request: AnyRequest,
        settings: NamedDependency[Settings],
        data: Annotated[OptOutForm, URL_FORM],
    ) -> Template:
        if not _valid(settings, data.r, data.t):
            return page(
                request, "notifications/opt_out.html.j2", {"state": "invalid"}, status_code=400
            )
        await set_preference(data.r, opted_out=True)
        return page(request, "notifications/opt_out.html.j2", {"state": "done"})
