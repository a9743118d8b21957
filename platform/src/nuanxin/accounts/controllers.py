"""Logging in and out: a session for browsers, a bearer token for API clients."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from nuanxin.accounts import services
from nuanxin.accounts.schemas import Credentials, Me, TokenCreated
from nuanxin.accounts.security import SESSION_USER_KEY, CurrentUser, rotate_session
from nuanxin.errors import DomainError

__all__ = ("CONTROLLERS", "AuthController")


def _me(user: CurrentUser) -> Me:
    return Me(
        id=user.id,
        username=user.username,
        role=user.role,
        jurisdiction_id=user.jurisdiction_id,
        organization_id=user.organization_id,
    )


class AuthController(Controller):
    path = "/api/auth"
    tags = ("accounts",)

    @post(
        "/login",
        operation_id="LogIn",
        exclude_from_auth=True,
        security=[{}],
        status_code=HTTP_200_OK,
        raises=[DomainError],
        summary="Log in a browser: starts a new session (needs the CSRF header)",
    )
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[Credentials]) -> Me:
        user = await services.authenticate(username=data.username, password=data.password)
        await rotate_session(request)
        request.set_session({SESSION_USER_KEY: user.id})
        return _me(user)

    @post(
        "/logout",
        operation_id="LogOut",
        status_code=HTTP_204_NO_CONTENT,
        raises=[NotAuthorizedException],
        summary="End the browser session",
    )
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        request.clear_session()

    @post(
        "/token",
        operation_id="CreateToken",
        exclude_from_auth=True,
        security=[{}],
        status_code=HTTP_201_CREATED,
        raises=[DomainError],
        summary="Exchange a username and password for a bearer token (API clients)",
    )
    async def token(self, data: JSONBody[Credentials]) -> TokenCreated:
        user = await services.authenticate(username=data.username, password=data.password)
        token, expires_at = await services.issue_token(user=user, label="api")
        return TokenCreated(token=token, token_type="bearer", expires_at=expires_at)

    @get("/me", operation_id="GetMe", raises=[NotAuthorizedException], summary="Who am I?")
    async def me(self, request: Request[CurrentUser, Any, Any]) -> Me:
        return _me(request.user)


CONTROLLERS: tuple[type[Controller], ...] = (AuthController,)
