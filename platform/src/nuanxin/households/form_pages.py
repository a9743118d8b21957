"""Staff register a household directly, edit one, and set a need by hand, in pages.

The same services as the API's ``CreateHousehold``, ``UpdateHousehold`` and
``OverrideHouseholdNeed`` (:mod:`nuanxin.households.registry`, :mod:`~.need_records`). The
household form takes the head's ID number (checked here, so that the page says what is wrong
with it: length, birth date, check character), or for a person without papers (先行救助) why
there is none; the registered address (户籍地) may lie anywhere, the current one is in the
jurisdiction (a migrant is helped where the hardship is). Members are up to
:data:`MEMBER_ROWS` rows of the form. A refused form comes back as typed, each problem at its
field, in the page's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from nuanxin import labels, messages
from nuanxin.errors import DomainError
from nuanxin.forms import FormState, blank
from nuanxin.guards import staff_and_admin
from nuanxin.households import need_records, read_model, registry
from nuanxin.households.identity import (
    IdNumberError,
    identity_of,
    normalise_id_number,
    today_in_china,
    without_papers,
)
from nuanxin.households.schemas import HouseholdCreate, HouseholdOut, HouseholdUpdate, NeedOverride
from nuanxin.households.vocabulary import Category, Tag
from nuanxin.i18n import N_
from nuanxin.identity import CurrentUser
from nuanxin.offers import services as offers
from nuanxin.regions.services import get_region, resolve_region
from nuanxin.settings import Settings
from nuanxin.web import ACCESS_REFUSALS, PageController, done, gettext_for, item_label, page

__all__ = ("HouseholdFormPages",)

AnyRequest = Request[Any, Any, Any]
URL_FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
MEMBER_ROWS = 8
RELATIONS: Mapping[str, str] = {
    "self": N_("Head of the household"),
    "spouse": N_("Spouse"),
    "child": N_("Child"),
    "parent": N_("Parent"),
    "grandchild": N_("Grandchild"),
    "grandparent": N_("Grandparent"),
    "sibling": N_("Brother or sister"),
    "other": N_("Other relative"),
}
SEXES: Mapping[str, str] = {"": N_("Not given"), "F": N_("Female"), "M": N_("Male")}
DISABILITIES: Mapping[str, str] = {
    "0": N_("None"),
    "1": N_("Grade 1 (most severe)"),
    "2": N_("Grade 2"),
    "3": N_("Grade 3"),
    "4": N_("Grade 4"),
}
#: What :func:`normalise_id_number` says (English, never shown) -> the page's sentence.
ID_PROBLEMS: Mapping[str, str] = {
    "an ID number has 18 characters": N_("An ID number has 18 characters: check the count"),
    "an ID number is 17 digits (0-9) followed by a digit or X": N_(
        "An ID number is 17 digits followed by a digit or X"
    ),
    "the birth date in the ID number is not a date": N_(
        "Characters 7 to 14 of the ID number are the birth date: this is not a real date"
    ),
    "the birth date in the ID number is not plausible": N_(
        "The birth date in the ID number (characters 7 to 14) cannot be right"
    ),
    "the check character of the ID number does not match": N_(
        "The last character does not match the others: a digit is mistyped"
    ),
}


class FieldError(Exception):
    """A field of the form that is not right (the sentence is said already)."""

    def __init__(self, field: str, sentence: str) -> None:
        super().__init__(sentence)
        self.field = field
        self.sentence = sentence


class NeedForm(msgspec.Struct, kw_only=True):
    item_code: str = ""
    quantity: str = ""
    unit: str = ""  # blank: the item's counting unit (coal: 25 kg bags); or kg, t
    reason: str = ""


def _words(request: AnyRequest) -> dict[str, str]:
    """What to say when a field's value is malformed (the DTO's limits, in words)."""
    _ = gettext_for(request)
    return {
        "category": _("Choose the category the household is registered under"),
        "head_name": _("Enter the name of the head of the household (100 characters at most)"),
        "phone": _("Enter a phone number, digits only, e.g. 13800000000"),
        "registered_address": _("The address is too long: 300 characters at most"),
        "current_address": _("Enter the address where the household lives now"),
        "region": _("Pick the county or township from the list"),
        "notes": _("The notes are too long: 2,000 characters at most"),
        "without_id": _("Say in a few words why the person has no ID number"),
        "lives_alone": _("A household living alone has exactly one member"),
        "members": _("Enter each member's year of birth"),
        "item_code": _("Choose an item from the list"),
        "quantity": _("Enter a whole number from 0 to 1,000"),
        "unit": _("Choose a unit from the list"),
        "reason": _("Say why the quantity is set by hand (300 characters at most)"),
    }


def _field_of(path: str) -> str:
    """The form's field for a field of the DTO (``members[0].sex`` -> ``m1_sex``)."""
    if path.startswith("members[") and "]." in path:
        index, rest = path[len("members[") :].split("].", 1)
        if index.isdigit():
            return f"m{int(index) + 1}_{rest}"
    return {"region_code": "region", "members": "m1_birth_year"}.get(path, path)


def _refusal(request: AnyRequest, exc: Exception) -> tuple[str, str]:
    """A refusal as (field, sentence) in the page's language; refusals of access go on."""
    _ = gettext_for(request)
    words = _words(request)
    if isinstance(exc, FieldError):
        return exc.field, exc.sentence
    if isinstance(exc, ACCESS_REFUSALS):
        raise exc
    if isinstance(exc, DomainError):
        field = _field_of(exc.field or "")
        if exc.message_id == "validation_error":
            if field[:1] == "m" and field[1:2].isdigit():
                return field, str(_("Enter a year of birth that has passed, e.g. 1956"))
            if field in words:
                return field, words[field]
        return field, messages.describe(exc, _)
    if isinstance(exc, msgspec.ValidationError):
        found = str(exc).split("at `$.", 1)
        path = found[1].split("`", 1)[0] if len(found) == 2 else ""
        field = _field_of(path)
        sentence = words.get(path.split("[", 1)[0]) or words.get(field)
        return field, sentence or str(_("Check this answer"))
    return "", str(_("Please check the form"))


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _members(request: AnyRequest, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    _ = gettext_for(request)
    year_now = today_in_china().year
    members: list[dict[str, Any]] = []
    for row in range(1, MEMBER_ROWS + 1):
        year = _text(values, f"m{row}_birth_year")
        if not year:
            continue
        if not year.isdigit() or not 1900 <= int(year) <= year_now:
            raise FieldError(
                f"m{row}_birth_year",
                _("Enter the year of birth as 4 digits, from 1900 to %(year)d")
                % {"year": year_now},
            )
        members.append(
            {
                "birth_year": int(year),
                "sex": _text(values, f"m{row}_sex"),
                "relation": _text(values, f"m{row}_relation") or ("self" if row == 1 else "other"),
                "disability_level": int(_text(values, f"m{row}_disability_level") or 0)
                if _text(values, f"m{row}_disability_level").isdigit()
                else 0,
            }
        )
    if not members:
        raise FieldError(
            "m1_birth_year", _("Enter at least the head of the household's birth year")
        )
    return members


def _id_number(request: AnyRequest, values: Mapping[str, Any]) -> str | None:
    """The ID number typed, checked (a :class:`FieldError` says what is wrong), or None."""
    _ = gettext_for(request)
    typed = _text(values, "id_number")
    if not typed:
        return None
    try:
        return normalise_id_number(typed)
    except IdNumberError as wrong:
        sentence = ID_PROBLEMS.get(str(wrong), N_("The ID number is not valid"))
        raise FieldError("id_number", _(sentence)) from None


async def _region_code(actor: CurrentUser, values: Mapping[str, Any]) -> str:
    region = await resolve_region(
        _text(values, "region"), field="region", within=actor.jurisdiction_prefix
    )
    return region.code


def _fields(values: Mapping[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
    tags = values.get("tags") or []
    return {
        "category": _text(values, "category"),
        "head_name": _text(values, "head_name"),
        "phone": _text(values, "phone"),
        "registered_address": _text(values, "registered_address"),
        "current_address": _text(values, "current_address"),
        "members": members,
        "lives_alone": values.get("lives_alone") == "1",
        "tags": sorted({t for t in ([tags] if isinstance(tags, str) else tags) if t}),
        "notes": _text(values, "notes"),
    }


async def _values_of(request: AnyRequest) -> dict[str, Any]:
    """The posted form as typed: one value a field, the ticked tags as a list."""
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
    values["tags"] = [t for t in form.getall("tags", []) if isinstance(t, str)]
    values.pop("_csrf_token", None)
    return values


async def _values_of_household(household: HouseholdOut) -> dict[str, Any]:
    region = await get_region(household.region_code)
    values: dict[str, Any] = {
        "category": household.category.value,
        "head_name": household.head_name,
        "phone": household.phone,
        "registered_address": household.registered_address,
        "current_address": household.current_address,
        "region": region.full_name if region else "",
        "lives_alone": "1" if household.lives_alone else "",
        "tags": list(household.tags),
        "notes": household.notes,
    }
    for row, member in enumerate(household.members, start=1):
        values[f"m{row}_birth_year"] = str(member.birth_year)
        values[f"m{row}_sex"] = member.sex
        values[f"m{row}_relation"] = member.relation
        values[f"m{row}_disability_level"] = str(member.disability_level)
    return values


def _choices(request: AnyRequest) -> dict[str, Any]:
    _ = gettext_for(request)
    return {
        "categories": [(c.value, labels.category_label(c, _)) for c in Category],
        "tags": list(Tag),
        "relations": [(k, _(v)) for k, v in RELATIONS.items()],
        "sexes": [(k, _(v)) for k, v in SEXES.items()],
        "disabilities": [(k, _(v)) for k, v in DISABILITIES.items()],
        "member_rows": range(1, MEMBER_ROWS + 1),
    }


class HouseholdFormPages(PageController):
    """Register (``/new``), edit (``/{id}/edit``) and set needs (``/{id}/needs``)."""

    path = "/staff/households"
    guards = [staff_and_admin]  # noqa: RUF012

    def _form(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        form: FormState,
        household: HouseholdOut | None = None,
        status_code: int = 200,
    ) -> Template:
        return page(
            request,
            "staff/household_form.html.j2",
            {
                "form": form,
                "h": household,
                "within": actor.jurisdiction_prefix or "",
                **_choices(request),
            },
            status_code=status_code,
        )

    @get("/new")
    async def new(self, request: AnyRequest, actor: NamedDependency[CurrentUser]) -> Template:
        return self._form(request, actor, blank({"m1_relation": "self"}))

    @post("/new", status_code=303)
    async def register(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        _ = gettext_for(request)
        values = await _values_of(request)
        try:
            number = _id_number(request, values)
            without_id = _text(values, "without_id")
            if number is None and not without_id:
                raise FieldError(
                    "id_number",
                    _(
                        "Enter the ID number; for a person without papers, say why under "
                        "\u201cNo ID number\u201d"
                    ),
                )
            if not _text(values, "category"):
                raise FieldError("category", _words(request)["category"])
            fields = _fields(values, _members(request, values))
            fields["region_code"] = await _region_code(actor, values)
            if number is not None:
                fields["id_number"] = number
            else:
                fields["without_id"] = without_id
            data = msgspec.convert(fields, HouseholdCreate)
            identity = (
                identity_of(number, secret_key=settings.secret_key)
                if number is not None
                else without_papers(
                    head_name=data.head_name,
                    current_address=data.current_address,
                    secret_key=settings.secret_key,
                )
            )
            created = await registry.create_household(
                user=actor, data=data, identity=identity, without_id=data.without_id.strip()
            )
        except (DomainError, msgspec.ValidationError, FieldError) as exc:
            field, sentence = _refusal(request, exc)
            shown = {**values, "id_number": values.get("id_number", "")}
            form = FormState(values=shown, errors={field: sentence})
            return self._form(request, actor, form, status_code=400)
        return done(
            request,
            _("Household %(ref)s registered; verify it next.") % {"ref": created.reference},
            f"/staff/households/{created.id}",
        )

    @get("/{household_id:int}/edit")
    async def edit(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], household_id: FromPath[int]
    ) -> Template:
        household = await read_model.get_household(user=actor, household_id=household_id)
        return self._form(request, actor, blank(await _values_of_household(household)), household)

    @post("/{household_id:int}/edit", status_code=303)
    async def save(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        household_id: FromPath[int],
    ) -> Template | Redirect:
        """Send the service only what changed (a field left as it was stays)."""
        _ = gettext_for(request)
        household = await read_model.get_household(user=actor, household_id=household_id)
        before = await _values_of_household(household)
        values = await _values_of(request)
        try:
            number = _id_number(request, values)
            fields = _fields(values, _members(request, values))
            was = _fields(before, _members(request, before))
            changed = {k: v for k, v in fields.items() if v != was[k]}
            if _text(values, "region") != before["region"]:
                changed["region_code"] = await _region_code(actor, values)
            if number is not None:
                changed["id_number"] = number
            data = msgspec.convert(changed, HouseholdUpdate)
            if changed:
                await registry.update_household(
                    user=actor, household_id=household_id, data=data, secret_key=settings.secret_key
                )
        except (DomainError, msgspec.ValidationError, FieldError) as exc:
            field, sentence = _refusal(request, exc)
            form = FormState(values=values, errors={field: sentence})
            return self._form(request, actor, form, household, status_code=400)
        message = (_("%(ref)s saved.") if changed else _("Nothing changed in %(ref)s.")) % {
            "ref": household.reference
        }
        return done(request, message, f"/staff/households/{household_id}")

    async def _needs(
        self,
        request: AnyRequest,
        actor: CurrentUser,
        household_id: int,
        form: FormState | None = None,
        status_code: int = 200,
    ) -> Template:
        household = await read_model.get_household(user=actor, household_id=household_id)
        return page(
            request,
            "staff/household_needs.html.j2",
            {
                "h": household,
                "needs": await need_records.list_needs(user=actor, household_id=household_id),
                "items_options": [
                    (i.code, item_label(request, i.code)) for i in await offers.list_items()
                ],
                "form": form or blank({"item_code": request.query_params.get("item", "")}),
            },
            status_code=status_code,
        )

    @get("/{household_id:int}/needs")
    async def needs(
        self, request: AnyRequest, actor: NamedDependency[CurrentUser], household_id: FromPath[int]
    ) -> Template:
        return await self._needs(request, actor, household_id)

    @post("/{household_id:int}/needs", status_code=303)
    async def override(
        self,
        request: AnyRequest,
        actor: NamedDependency[CurrentUser],
        household_id: FromPath[int],
        data: Annotated[NeedForm, URL_FORM],
    ) -> Template | Redirect:
        """Set one need's quantity by hand, with the reason (audited, kept through
        recomputation)."""
        _ = gettext_for(request)
        try:
            if not data.item_code:
                raise FieldError("item_code", _words(request)["item_code"])
            quantity = data.quantity.strip()
            if not quantity.replace(".", "", 1).isdigit():
                raise FieldError("quantity", _words(request)["quantity"])
            if not data.reason.strip():
                raise FieldError("reason", _("Say why the quantity is set by hand"))
            wanted = msgspec.convert(
                {
                    "item_code": data.item_code,
                    "quantity": quantity,
                    "unit": data.unit.strip() or None,
                    "reason": data.reason.strip(),
                },
                NeedOverride,
                strict=False,
            )
            saved = await need_records.override_need(
                user=actor, household_id=household_id, data=wanted
            )
        except (DomainError, msgspec.ValidationError, FieldError) as exc:
            field, sentence = _refusal(request, exc)
            form = FormState(values=msgspec.structs.asdict(data), errors={field: sentence})
            return await self._needs(request, actor, household_id, form, 400)
        return done(
            request,
            _("The need is set to %(n)d by hand; the reason is kept.") % {"n": saved.quantity},
            f"/staff/households/{household_id}/needs",
        )
