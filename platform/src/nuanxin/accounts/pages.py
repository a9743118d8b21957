"""The login page for browsers (the API has ``/api/auth/login`` for scripts)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from nuanxin.accounts import services
from nuanxin.accounts.security import SESSION_USER_KEY, rotate_session
from nuanxin.errors import DomainError

__all__ = ("LoginPage",)


class LoginForm(msgspec.Struct, kw_only=True):
    username: str = ""
    password: str = ""
    next: str = "/"


def _safe_next(target: str) -> str:
    """Only same-site paths: never redirect a login to another host."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


class LoginPage(Controller):
    path = "/login"
    include_in_schema = False

    @get(exclude_from_auth=True)
    async def form(self, next: FromQuery[str] = "/") -> Template:  # noqa: A002 - the query name
        return Template("login.html.j2", context={"next": _safe_next(next), "error": None})

    @post(exclude_from_auth=True, status_code=303)
    async def submit(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        try:
            user = await services.authenticate(username=data.username, password=data.password)
        except DomainError:
            return Template(
                "login.html.j2",
                context={
                    "next": _safe_next(data.next),
                    "error": "用户名或密码错误 Wrong username or password",
                    "username": data.username,
                },
                status_code=401,
            )
        await rotate_session(request)
        request.set_session({SESSION_USER_KEY: user.id})
        return Redirect(_safe_next(data.next), status_code=303)

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/", status_code=303)
