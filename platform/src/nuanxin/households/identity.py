"""Resident ID numbers (居民身份证号码, GB 11643-1999): validation and normalisation.

An ID number is 18 characters: a 6-digit region code, an 8-digit birth date, a 3-digit
sequence number and a check character (ISO 7064 MOD 11-2, ``X`` for 10). The platform never
stores one: it keeps a keyed hash of the normalised number (to find duplicates) and its last
four characters (to show): :func:`identity_of` turns a number into that :class:`Identity`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from nuanxin.errors import Invalid
from nuanxin.identity import keyed_hash

__all__ = ("IdNumberError", "Identity", "check_character", "identity_of", "normalise_id_number")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdNumberError(ValueError):
    """Not a valid resident ID number; the message says why (never repeating the number)."""


def check_character(first17: str) -> str:
    """The check character of the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalise_id_number(value: str) -> str:
    """The number with spaces removed and ``x`` upper-cased, or :class:`IdNumberError`."""
    number = "".join(value.split()).upper()
    if len(number) != 18:
        raise IdNumberError("an ID number has 18 characters")
    if not _SHAPE.match(number):
        raise IdNumberError("an ID number is 17 digits followed by a digit or X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("the birth date in the ID number is not a date") from None
    if born.year < 1900 or born > datetime.now(UTC).date():
        raise IdNumberError("the birth date in the ID number is not plausible")
    if check_character(number[:17]) != number[17]:
        raise IdNumberError("the check character of the ID number does not match")
    return number


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """What is kept of an ID number: its keyed hash and last four characters."""

    id_hash: str
    id_last4: str


def identity_of(id_number: str, *, secret_key: str, field: str = "id_number") -> Identity:
    """Validate an ID number and keep only its keyed hash and last four (400 if invalid)."""
    try:
        number = normalise_id_number(id_number)
    except IdNumberError as invalid:
        raise Invalid(f"{field}: {invalid}", error="validation_error", field=field) from None
    return Identity(id_hash=keyed_hash(secret_key, number), id_last4=number[-4:])
