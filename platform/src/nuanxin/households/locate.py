"""Where is this address? Candidate counties and townships from the offline gazetteer.

Free text only pre-fills: staff pick the region from the candidates (a parsed address can
misplace abbreviations). :func:`candidate_divisions` never guesses between readings: an
ambiguous address gives every candidate, a city or province gives the counties under it.
:func:`locate_address` answers those candidates as the loaded regions staff may pick, and
:func:`resolve_region` checks the region a household is placed in (a county or township of
the caller's jurisdiction).
"""

from __future__ import annotations

import functools

from nuanxin.errors import Invalid, NotFound
from nuanxin.households.schemas import AddressLookup, RegionChoice
from nuanxin.identity import CurrentUser
from nuanxin.regions.gazetteer import Division
from nuanxin.regions.geocoder import AddressError, OfflineGeocoder
from nuanxin.regions.services import RegionRecord, get_region

__all__ = (
    "LOCATABLE_LEVELS",
    "MAX_CANDIDATES",
    "candidate_divisions",
    "locate_address",
    "offline_geocoder",
    "resolve_region",
)

LOCATABLE_LEVELS = ("county", "township")
MAX_CANDIDATES = 40


@functools.cache
def offline_geocoder() -> OfflineGeocoder:
    """One offline geocoder per process (it indexes the gazetteer once)."""
    return OfflineGeocoder()


def _counties_under(geocoder: OfflineGeocoder, division: Division) -> list[Division]:
    found: list[Division] = []
    pending = [division.code]
    while pending and len(found) < MAX_CANDIDATES:
        code = pending.pop(0)
        for kid in geocoder.gazetteer.children.get(code, ()):
            child = geocoder.gazetteer.by_code[kid]
            if child.level == "county":
                found.append(child)
            elif child.level in ("province", "city"):
                pending.append(child.code)
    return found[:MAX_CANDIDATES]


def candidate_divisions(address: str) -> tuple[Division | None, list[Division], str]:
    """``(the division, candidates, problem)``: the county or township the address names
    (``None`` when unclear), the county/township-level candidates, and why it is unclear."""
    geocoder = offline_geocoder()
    try:
        division = geocoder.resolve(address)
    except AddressError as unclear:
        seen = list(unclear.candidates)
        expanded = [d for d in seen if d.level in LOCATABLE_LEVELS]
        for d in seen:
            if d.level not in LOCATABLE_LEVELS:
                expanded.extend(_counties_under(geocoder, d))
        return None, expanded[:MAX_CANDIDATES], str(unclear)
    if division.level in LOCATABLE_LEVELS:
        return division, [division], ""
    return None, _counties_under(geocoder, division), f"{division.full_name} names no county"


async def resolve_region(
    user: CurrentUser, code: str, *, field: str = "region_code"
) -> RegionRecord:
    """A county or township in the user's jurisdiction where a household may be placed."""
    region = await get_region(code)
    if region is None:
        raise Invalid(
            f"{field}: no region has the code {code}",
            error="validation_error",
            field=field,
            message_id="unknown_region",
        )
    if region.level not in LOCATABLE_LEVELS:
        raise Invalid(
            f"{field}: pick a county or township, not a province or city",
            error="validation_error",
            field=field,
            message_id="region_too_large",
        )
    if not user.covers(region.code):
        raise NotFound(
            "No such region in your jurisdiction",
            field=field,
            message_id="region_not_in_jurisdiction",
        )
    return region


async def locate_address(*, user: CurrentUser, address: str) -> AddressLookup:
    """Pre-fill a household's region from free text (staff still pick it).

    Candidates are the loaded regions the offline gazetteer reads the address as, those in
    the user's jurisdiction first.
    """
    division, divisions, problem = candidate_divisions(address)
    choices: list[RegionChoice] = []
    for candidate in divisions:
        region = await get_region(candidate.code)
        if region is not None:
            choices.append(
                RegionChoice(
                    code=region.code,
                    name=region.name,
                    full_name=region.full_name,
                    level=region.level,
                    lat=region.lat,
                    lon=region.lon,
                    in_jurisdiction=user.covers(region.code),
                )
            )
    choices.sort(key=lambda choice: (not choice.in_jurisdiction, choice.code))
    single = choices[0] if division is not None and choices else None
    if division is not None and single is None:
        problem = f"{division.full_name} is not served by this platform"
    return AddressLookup(region=single, candidates=choices, problem=problem)
