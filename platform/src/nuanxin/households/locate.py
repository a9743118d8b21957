"""Where is this address? Candidate counties and townships from the offline gazetteer.

Free text only pre-fills: staff pick the region from the candidates (a parsed address can
misplace abbreviations). :func:`candidate_divisions` never guesses between readings: an
ambiguous address gives every candidate, a city or province gives the counties under it.
"""

from __future__ import annotations

import functools

from nuanxin.regions.gazetteer import Division
from nuanxin.regions.geocoder import AddressError, OfflineGeocoder

__all__ = ("LOCATABLE_LEVELS", "MAX_CANDIDATES", "candidate_divisions", "offline_geocoder")

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
