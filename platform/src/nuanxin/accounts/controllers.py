"""The JSON API of the accounts area: logging in, accounts, charities and their members.

A charity's warehouses: :mod:`nuanxin.warehouses.controllers`.

Guards admit roles; the services check the record (jurisdiction, own charity) and answer 404
for what lies outside one's reach.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from nuanxin.accounts import members, organizations, services
from nuanxin.accounts.schemas import (
    Account,
    AccountCreate,
    AccountUpdate,
    CharityListing,
    Credentials,
    Me,
    Member,
    MemberCreate,
    Organization,
    OrganizationSignUp,
    OrganizationUpdate,
    SignedUp,
    StatusChange,
    TokenCreated,
    TokenRevoke,
)
from nuanxin.accounts.security import SESSION_USER_KEY, rotate_session
from nuanxin.accounts.vocabulary import OrganizationStatus
from nuanxin.guards import admin_only, require_roles, staff_and_admin
from nuanxin.identity import CurrentUser, Role
from nuanxin.limits import Guess
from nuanxin.pagination import Page, Pagination, provide_pagination
from nuanxin.responses import error_responses

__all__ = (
    "AccountController",
    "AuthController",
    "OrganizationController",
)

members_and_admin = require_roles(Role.charity, Role.admin)
not_couriers = require_roles(Role.admin, Role.staff, Role.charity)
PAGINATED: dict[str, Provide] = {"page": Provide(provide_pagination)}

RegionFilter = Annotated[str | None, QueryParameter(description="a region and everything under it")]
TextFilter = Annotated[str | None, QueryParameter(max_length=100, description="search")]
ActiveFilter = FromQuery[bool | None]


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
        guessing=Guess.login,
        security=[{}],
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 429),
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
        responses=error_responses(401, 403),
        summary="End the browser session",
    )
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        request.clear_session()

    @post(
        "/revoke",
        operation_id="RevokeToken",
        status_code=HTTP_204_NO_CONTENT,
        responses=error_responses(400, 401, 403),
        summary="Revoke one of one's bearer tokens (API clients log out with it)",
    )
    async def revoke(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[TokenRevoke]
    ) -> None:
        await services.revoke_token(user=actor, token=data.token)

    @post(
        "/token",
        operation_id="CreateToken",
        exclude_from_auth=True,
        guessing=Guess.login,
        security=[{}],
        status_code=HTTP_201_CREATED,
        responses=error_responses(400, 401, 429),
        summary="Exchange a username and password for a bearer token (API clients)",
    )
    async def token(self, data: JSONBody[Credentials]) -> TokenCreated:
        user = await services.authenticate(username=data.username, password=data.password)
        token, expires_at = await services.issue_token(user=user, label="api")
        return TokenCreated(token=token, token_type="bearer", expires_at=expires_at)

    @get("/me", operation_id="GetMe", responses=error_responses(401), summary="Who am I?")
    async def me(self, actor: NamedDependency[CurrentUser]) -> Me:
        return _me(actor)


class AccountController(Controller):
    """Admins manage staff (and admin) accounts; staff each have a jurisdiction."""

    path = "/api/accounts"
    tags = ("accounts",)
    guards = (admin_only,)
    dependencies = PAGINATED

    @get(
        operation_id="ListAccounts",
        responses=error_responses(400, 401, 403),
        summary="Accounts, by role, jurisdiction (and below), charity, state or name",
    )
    async def list_accounts(
        self,
        page: NamedDependency[Pagination],
        role: FromQuery[Role | None] = None,
        jurisdiction_code: RegionFilter = None,
        organization_id: FromQuery[int | None] = None,
        is_active: ActiveFilter = None,
        q: TextFilter = None,
    ) -> Page[Account]:
        return await services.list_accounts(
            page=page,
            role=role,
            jurisdiction_code=jurisdiction_code,
            organization_id=organization_id,
            is_active=is_active,
            q=q,
        )

    @post(
        operation_id="CreateAccount",
        responses=error_responses(400, 401, 403, 409),
        summary="Create a staff account with its jurisdiction (or an admin account)",
    )
    async def create_account(
        self, actor: NamedDependency[CurrentUser], data: JSONBody[AccountCreate]
    ) -> Account:
        return await services.create_account(actor=actor, data=data)

    @get(
        "/{account_id:int}",
        operation_id="GetAccount",
        responses=error_responses(400, 401, 403, 404),
        summary="One account",
    )
    async def get_account(self, account_id: FromPath[int]) -> Account:
        return await services.get_account(account_id=account_id)

    @patch(
        "/{account_id:int}",
        operation_id="UpdateAccount",
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Rename, move a staff member's jurisdiction, or (de)activate an account",
    )
    async def update_account(
        self,
        actor: NamedDependency[CurrentUser],
        account_id: FromPath[int],
        data: JSONBody[AccountUpdate],
    ) -> Account:
        return await services.update_account(actor=actor, account_id=account_id, data=data)


class OrganizationController(Controller):
    """Charities: sign-up, verification by staff, their members and warehouses."""

    path = "/api/organizations"
    tags = ("charities",)
    dependencies = PAGINATED

    @post(
        "/signup",
        operation_id="SignUpOrganization",
        exclude_from_auth=True,
        security=[{}],
        responses=error_responses(400, 403, 409),
        summary="A charity signs up with its first member's account; it waits for verification",
    )
    async def sign_up(self, data: JSONBody[OrganizationSignUp]) -> SignedUp:
        return await organizations.sign_up(data=data)

    @get(
        operation_id="ListOrganizations",
        guards=[staff_and_admin],
        responses=error_responses(400, 401, 403),
        summary="Charities registered in one's jurisdiction, by status, region or name",
    )
    async def list_organizations(
        self,
        actor: NamedDependency[CurrentUser],
        page: NamedDependency[Pagination],
        status: FromQuery[OrganizationStatus | None] = None,
        region_code: RegionFilter = None,
        q: TextFilter = None,
    ) -> Page[Organization]:
        return await organizations.list_organizations(
            user=actor, page=page, status=status, region_code=region_code, q=q
        )

    @get(
        "/verified",
        operation_id="ListVerifiedCharities",
        exclude_from_auth=True,
        security=[{}],
        responses=error_responses(400),
        summary="Verified charities by name or region: whom a donor may give goods to (public)",
    )
    async def list_verified_charities(
        self,
        page: NamedDependency[Pagination],
        region_code: RegionFilter = None,
        q: TextFilter = None,
    ) -> Page[CharityListing]:
        return await organizations.list_verified_charities(page=page, region_code=region_code, q=q)

    @get(
        "/{organization_id:int}",
        operation_id="GetOrganization",
        responses=error_responses(400, 401, 404),
        summary="One charity (its own members, staff over its region, admins)",
    )
    async def get_organization(
        self, actor: NamedDependency[CurrentUser], organization_id: FromPath[int]
    ) -> Organization:
        return await organizations.get_organization(user=actor, organization_id=organization_id)

    @patch(
        "/{organization_id:int}",
        operation_id="UpdateOrganization",
        guards=[members_and_admin],
        responses=error_responses(400, 401, 403, 404),
        summary="Change the charity's contact",
    )
    async def update_organization(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        data: JSONBody[OrganizationUpdate],
    ) -> Organization:
        return await organizations.update_organization(
            user=actor, organization_id=organization_id, data=data
        )

    @post(
        "/{organization_id:int}/verify",
        operation_id="VerifyOrganization",
        guards=[staff_and_admin],
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Verify a pending charity, or reinstate a suspended one",
    )
    async def verify(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        data: JSONBody[StatusChange],
    ) -> Organization:
        return await organizations.verify_organization(
            user=actor, organization_id=organization_id, reason=data.reason
        )

    @post(
        "/{organization_id:int}/suspend",
        operation_id="SuspendOrganization",
        guards=[staff_and_admin],
        status_code=HTTP_200_OK,
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Suspend a charity (a reason is required): it posts and edits no offers",
    )
    async def suspend(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        data: JSONBody[StatusChange],
    ) -> Organization:
        return await organizations.suspend_organization(
            user=actor, organization_id=organization_id, reason=data.reason
        )

    @get(
        "/{organization_id:int}/members",
        operation_id="ListMembers",
        guards=[not_couriers],
        responses=error_responses(400, 401, 403, 404),
        summary="The charity's member and courier accounts",
    )
    async def list_members(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        page: NamedDependency[Pagination],
        role: FromQuery[Role | None] = None,
        is_active: ActiveFilter = None,
    ) -> Page[Member]:
        return await members.list_members(
            user=actor,
            organization_id=organization_id,
            page=page,
            role=role,
            is_active=is_active,
        )

    @post(
        "/{organization_id:int}/members",
        operation_id="AddMember",
        guards=[members_and_admin],
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Add a member or a courier to the charity",
    )
    async def add_member(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        data: JSONBody[MemberCreate],
    ) -> Member:
        return await members.add_member(user=actor, organization_id=organization_id, data=data)

    @delete(
        "/{organization_id:int}/members/{account_id:int}",
        operation_id="RemoveMember",
        guards=[members_and_admin],
        responses=error_responses(400, 401, 403, 404, 409),
        summary="Remove a member: the account is deactivated and its tokens revoked",
    )
    async def remove_member(
        self,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        account_id: FromPath[int],
    ) -> None:
        await members.remove_member(
            user=actor, organization_id=organization_id, account_id=account_id
        )
