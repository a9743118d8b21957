"""The login page for browsers (the API has ``/api/auth/login`` for scripts)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from nuanxin.accounts import services
from nuanxin.accounts.security import SESSION_USER_KEY, rotate_session
from nuanxin.errors import DomainError
from nuanxin.identity import Role
from nuanxin.limits import Guess
from nuanxin.web import PageController, gettext_for, page

__all__ = ("LoginPage",)


class LoginForm(msgspec.Struct, kw_only=True):
    username: str = ""
    password: str = ""
    next: str = "/"


HOME_OF_ROLE = {
    Role.staff: "/staff",
    Role.admin: "/staff",
    Role.charity: "/charity",
    Role.courier: "/courier",
}


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect a login to another host."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


class LoginPage(PageController):
    path = "/login"

    @get(exclude_from_auth=True)
    async def form(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str] = "/",  # noqa: A002 - the query name
    ) -> Template:
        return page(request, "login.html.j2", {"next": _safe_next(next), "error": None})

    @post(exclude_from_auth=True, status_code=303, guessing=Guess.login)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            user = await services.authenticate(username=data.username, password=data.password)
        except DomainError:
            _ = gettext_for(request)
            return page(
                request,
                "login.html.j2",
                {
                    "next": _safe_next(data.next),
                    "error": _("Wrong username or password"),
                    "username": data.username,
                },
                status_code=401,
            )
        await rotate_session(request)
        request.set_session({SESSION_USER_KEY: user.id})
        target = _safe_next(data.next)
        if target == "/":
            target = HOME_OF_ROLE.get(user.role, "/")
        return Redirect(target, status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/", status_code=303)
