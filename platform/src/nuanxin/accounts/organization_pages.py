"""Pages of charities and accounts: a charity signs up (public), staff verify or suspend it,
its members add colleagues and couriers, and an admin creates staff accounts.

Every handler calls the same services as the API (:mod:`nuanxin.accounts.organizations`,
:mod:`~nuanxin.accounts.members`, :mod:`~nuanxin.accounts.services`); a refused form comes back
with what was typed and the problem at its field (:func:`nuanxin.forms.refused`).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from nuanxin.accounts import members, organizations, services
from nuanxin.accounts.schemas import (
    AccountCreate,
    MemberCreate,
    OrganizationSignUp,
    OrganizationUpdate,
)
from nuanxin.accounts.vocabulary import MemberRole, OrganizationStatus, StaffRole
from nuanxin.errors import DomainError, Forbidden
from nuanxin.forms import FormState, blank, refused
from nuanxin.guards import admin_only, charity_members, staff_and_admin
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Pagination
from nuanxin.regions.services import resolve_region
from nuanxin.web import PageController, done, gettext_for, page

__all__ = ("AccountPages", "CharityMemberPages", "SignUpPages", "StaffCharityPages")

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
PER_PAGE = 50
REFUSED = (DomainError, msgspec.ValidationError)

#: The words the templates build from codes (``_("charity_" ~ status)``), for the catalogues.
WORDS = (
    N_("charity_pending"),
    N_("charity_verified"),
    N_("charity_suspended"),
    N_("role_admin"),
    N_("role_staff"),
    N_("role_charity"),
    N_("role_courier"),
)


def _invalid(request: AnyRequest) -> dict[str, str]:
    """What to say when a field's value is malformed (the DTO's limits, in words)."""
    _ = gettext_for(request)
    return {
        "name": _("Enter the charity's registered name"),
        "credit_code": _("The credit code has 18 characters: digits and capital letters"),
        "contact_name": _("Enter the name of a contact person"),
        "contact_phone": _("Enter a phone number, digits only, e.g. 13800000000"),
        "phone": _("Enter a phone number, digits only, e.g. 13800000000"),
        "username": _("A username has letters, digits, dots, @, - or _ only"),
        "password": _("The password needs at least 8 characters"),
        "display_name": _("The name is too long"),
    }


class SignUpForm(msgspec.Struct, kw_only=True):
    """The sign-up form as typed: the region is a name picked from the list."""

    name: str = ""
    credit_code: str = ""
    region: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    username: str = ""
    display_name: str = ""
    password: str = ""

    def shown(self) -> dict[str, Any]:
        """What the page shows again (never the password)."""
        values = msgspec.structs.asdict(self)
        values.pop("password")
        return values


class SignUpPages(PageController):
    """A charity signs up: it stays pending until staff over its region verify it."""

    path = "/charities/sign-up"

    @get("/", exclude_from_auth=True)
    async def form(self, request: AnyRequest) -> Template:
        return page(request, "charity/sign_up.html.j2", {"form": blank()})

    @post("/", exclude_from_auth=True, status_code=303)
    async def submit(
        self, request: AnyRequest, data: Annotated[SignUpForm, URL_FORM]
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            region = await resolve_region(data.region, field="region")
            signed = await organizations.sign_up(
                data=msgspec.convert(
                    {
                        "name": data.name.strip(),
                        "credit_code": data.credit_code.strip().upper(),
                        "region_code": region.code,
                        "contact_name": data.contact_name.strip(),
                        "contact_phone": data.contact_phone.strip(),
                        "username": data.username.strip(),
                        "display_name": data.display_name.strip(),
                        "password": data.password,
                    },
                    OrganizationSignUp,
                )
            )
        except REFUSED as exc:
            form = refused(
                request,
                exc,
                data.shown(),
                invalid=_invalid(request),
                aliases={"region_code": "region"},
            )
            return page(request, "charity/sign_up.html.j2", {"form": form}, status_code=400)
        return done(
            request,
            _(
                "%(name)s is signed up. Civil affairs staff of %(region)s verify it before it "
                "can post offers; log in meanwhile to add a warehouse."
            )
            % {"name": signed.organization.name, "region": signed.organization.region_name},
            "/login",
        )


class VerifyForm(msgspec.Struct, kw_only=True):
    note: str = ""


class SuspendForm(msgspec.Struct, kw_only=True):
    reason: str = ""


class StaffCharityPages(PageController):
    """Staff over a charity's region verify it, suspend it, or verify it again."""

    path = "/staff/charities"
    guards = [staff_and_admin]  # noqa: RUF012

    @get("/")
    async def index(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        status: FromQuery[str] = "",
        q: FromQuery[str] = "",
        offset: FromQuery[int] = 0,
    ) -> Template:
        chosen = OrganizationStatus(status) if status in set(OrganizationStatus) else None
        found = await organizations.list_organizations(
            user=actor,
            page=Pagination(limit=PER_PAGE, offset=max(offset, 0)),
            status=chosen,
            q=q.strip()[:100] or None,
        )
        return page(
            request,
            "staff/charities.html.j2",
            {
                "found": found,
                "status": chosen.value if chosen else "",
                "q": q,
                "statuses": list(OrganizationStatus),
            },
        )

    async def _one(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        organization_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        organization = await organizations.get_organization(
            user=actor, organization_id=organization_id
        )
        team = await members.list_members(
            user=actor, organization_id=organization_id, page=Pagination(limit=100)
        )
        return page(
            request,
            "staff/charity.html.j2",
            {"o": organization, "team": team, "form": form or blank()},
            status_code=status_code,
        )

    @get("/{organization_id:int}")
    async def one(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
    ) -> Template:
        return await self._one(request, actor, organization_id)

    @post("/{organization_id:int}/verify", status_code=303)
    async def verify(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        data: Annotated[VerifyForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            found = await organizations.verify_organization(
                user=actor, organization_id=organization_id, reason=data.note.strip()[:300]
            )
        except REFUSED as exc:
            form = refused(request, exc, data)
            return await self._one(request, actor, organization_id, form, 400)
        return done(
            request,
            _("%(name)s is verified: it may post offers.") % {"name": found.name},
            f"/staff/charities/{organization_id}",
        )

    @post("/{organization_id:int}/suspend", status_code=303)
    async def suspend(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        organization_id: FromPath[int],
        data: Annotated[SuspendForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            found = await organizations.suspend_organization(
                user=actor, organization_id=organization_id, reason=data.reason.strip()[:300]
            )
        except REFUSED as exc:
            form = refused(request, exc, data)
            return await self._one(request, actor, organization_id, form, 400)
        return done(
            request,
            _("%(name)s is suspended: it posts and changes no offers until verified again.")
            % {"name": found.name},
            f"/staff/charities/{organization_id}",
        )


class MemberForm(msgspec.Struct, kw_only=True):
    username: str = ""
    display_name: str = ""
    phone: str = ""
    role: str = MemberRole.courier.value
    password: str = ""


class ContactForm(msgspec.Struct, kw_only=True):
    """Whom civil affairs staff and donors' questions reach at the charity."""

    contact_name: str = ""
    contact_phone: str = ""


def _own_charity(actor: CurrentUser) -> int:
    if actor.organization_id is None:  # pragma: no cover - every charity account has one
        raise Forbidden("This account belongs to no charity")
    return actor.organization_id


class CharityMemberPages(PageController):
    """A charity's members add colleagues and couriers, and remove them."""

    path = "/charity/members"
    guards = [charity_members]  # noqa: RUF012

    async def _index(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        form: FormState | None = None,
        status_code: int = 200,
        contact: FormState | None = None,
    ) -> Template:
        organization_id = _own_charity(actor)
        organization = await organizations.get_organization(
            user=actor, organization_id=organization_id
        )
        team = await members.list_members(
            user=actor, organization_id=organization_id, page=Pagination(limit=200)
        )
        return page(
            request,
            "charity/members.html.j2",
            {
                "o": organization,
                "team": team,
                "form": form or blank(MemberForm()),
                "roles": list(MemberRole),
                "contact": contact
                or blank(
                    ContactForm(
                        contact_name=organization.contact_name,
                        contact_phone=organization.contact_phone,
                    )
                ),
            },
            status_code=status_code,
        )

    @get("/")
    async def index(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        return await self._index(request, actor)

    @post("/", status_code=303)
    async def add(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        data: Annotated[MemberForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            added = await members.add_member(
                user=actor,
                organization_id=_own_charity(actor),
                data=msgspec.convert(
                    {
                        "username": data.username.strip(),
                        "display_name": data.display_name.strip(),
                        "phone": data.phone.strip(),
                        "role": data.role,
                        "password": data.password,
                    },
                    MemberCreate,
                ),
            )
        except REFUSED as exc:
            shown = msgspec.structs.asdict(data) | {"password": ""}
            form = refused(request, exc, shown, invalid=_invalid(request))
            return await self._index(request, actor, form, 400)
        return done(
            request,
            _("%(username)s can log in now.") % {"username": added.username},
            "/charity/members",
        )

    @post("/contact", status_code=303)
    async def contact(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        data: Annotated[ContactForm, URL_FORM],
    ) -> Template | Redirect:
        """Change the charity's contact person and phone."""
        _ = gettext_for(request)
        try:
            await organizations.update_organization(
                user=actor,
                organization_id=_own_charity(actor),
                data=msgspec.convert(
                    {
                        "contact_name": data.contact_name.strip(),
                        "contact_phone": data.contact_phone.strip(),
                    },
                    OrganizationUpdate,
                ),
            )
        except REFUSED as exc:
            form = refused(request, exc, data, invalid=_invalid(request))
            return await self._index(request, actor, None, 400, contact=form)
        return done(request, _("The charity's contact is saved."), "/charity/members")

    @post("/{account_id:int}/remove", status_code=303)
    async def remove(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        account_id: FromPath[int],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            removed = await members.remove_member(
                user=actor, organization_id=_own_charity(actor), account_id=account_id
            )
        except REFUSED as exc:
            return await self._index(request, actor, refused(request, exc, {}), 400)
        return done(
            request,
            _("%(username)s can no longer log in.") % {"username": removed.username},
            "/charity/members",
        )


class AccountForm(msgspec.Struct, kw_only=True):
    username: str = ""
    display_name: str = ""
    phone: str = ""
    role: str = StaffRole.staff.value
    jurisdiction: str = ""
    password: str = ""


JURISDICTION_LEVELS = ("province", "city", "county")


class AccountPages(PageController):
    """An admin creates staff accounts, each over a jurisdiction picked from the list."""

    path = "/staff/accounts"
    guards = [admin_only]  # noqa: RUF012

    async def _index(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        offset: int = 0,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        found = await services.list_accounts(
            page=Pagination(limit=PER_PAGE, offset=max(offset, 0)),
            role=Role.staff,
        )
        return page(
            request,
            "staff/accounts.html.j2",
            {
                "found": found,
                "form": form or blank(AccountForm()),
                "roles": list(StaffRole),
                "staff_roles": {Role.admin, Role.staff},
            },
            status_code=status_code,
        )

    @get("/")
    async def index(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], offset: FromQuery[int] = 0
    ) -> Template:
        return await self._index(request, actor, offset)

    @post("/", status_code=303)
    async def create(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        data: Annotated[AccountForm, URL_FORM],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        try:
            code = None
            if data.jurisdiction.strip() or data.role == StaffRole.staff.value:
                region = await resolve_region(
                    data.jurisdiction, field="jurisdiction", levels=JURISDICTION_LEVELS
                )
                code = region.code
            created = await services.create_account(
                actor=actor,
                data=msgspec.convert(
                    {
                        "username": data.username.strip(),
                        "display_name": data.display_name.strip(),
                        "phone": data.phone.strip(),
                        "role": data.role,
                        "jurisdiction_code": code,
                        "password": data.password,
                    },
                    AccountCreate,
                ),
            )
        except REFUSED as exc:
            shown = msgspec.structs.asdict(data) | {"password": ""}
            form = refused(
                request,
                exc,
                shown,
                invalid=_invalid(request),
                aliases={"jurisdiction_code": "jurisdiction"},
            )
            return await self._index(request, actor, 0, form, 400)
        return done(
            request,
            _("%(username)s can log in now.") % {"username": created.username},
            "/staff/accounts",
        )
