"""Resident ID numbers (居民身份证号码, GB 11643-1999): the one way in.

An ID number is 18 characters: a 6-digit region code, an 8-digit birth date, a 3-digit
sequence number and a check character (ISO 7064 MOD 11-2, ``X`` for 10). The platform never
stores one: it keeps a keyed hash of the normalised number (to find duplicates) and its last
four characters (to show).

Every ID number that enters (a household registered or edited, a help request converted, a
CSV import, the duplicate check through them) goes through :func:`identity_of`, so that one
person has one hash however the number was typed:

* :func:`normalise_id_number` first applies NFKC (full-width ``１２３`` and ``ｘ``, mathematical
  digits, the ideographic space become their ASCII forms), removes every whitespace character
  (inner spaces too), upper-cases ``x``; then it refuses anything but 17 ASCII digits and a
  digit or ``X`` (other scripts' digits, such as ``٣`` or ``३``, are not ID numbers), a birth
  date that is not a real calendar day, born before 1900 or after today (China's date), and
  a wrong check character;
* :func:`id_number_hash` is the keyed hash (HMAC-SHA256 with the deployment's secret key) of
  the normalised number, never of the raw input and never unkeyed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from nuanxin.errors import Invalid
from nuanxin.identity import keyed_hash

__all__ = (
    "EARLIEST_BIRTH_YEAR",
    "IdNumberError",
    "Identity",
    "check_character",
    "id_number_hash",
    "identity_of",
    "normalise_id_number",
    "without_papers",
)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)
_CHINA = timezone(timedelta(hours=8), "CST")  # no daylight saving: a fixed offset is exact
EARLIEST_BIRTH_YEAR = 1900


class IdNumberError(ValueError):
    """Not a valid resident ID number; the message says why (never repeating the number)."""


def check_character(first17: str) -> str:
    """The check character (ISO 7064 MOD 11-2) of the first 17 ASCII digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def today_in_china() -> date:
    return datetime.now(_CHINA).date()


def normalise_id_number(value: str, *, today: date | None = None) -> str:
    """The number as 17 ASCII digits and a digit or ``X``, or :class:`IdNumberError`.

    ``today`` (China's date by default) bounds the birth date from above.
    """
    number = "".join(unicodedata.normalize("NFKC", value).split()).upper()
    if len(number) != 18:
        raise IdNumberError("an ID number has 18 characters")
    if not _SHAPE.fullmatch(number):
        raise IdNumberError("an ID number is 17 digits (0-9) followed by a digit or X")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("the birth date in the ID number is not a date") from None
    if born.year < EARLIEST_BIRTH_YEAR or born > (today or today_in_china()):
        raise IdNumberError("the birth date in the ID number is not plausible")
    if check_character(number[:17]) != number[17]:
        raise IdNumberError("the check character of the ID number does not match")
    return number


def id_number_hash(secret_key: str, number: str) -> str:
    """The keyed hash under which a *normalised* number is kept and compared."""
    return keyed_hash(secret_key, number)


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """What is kept of an ID number: its keyed hash and last four characters."""

    id_hash: str
    id_last4: str


def without_papers(*, head_name: str, current_address: str, secret_key: str) -> Identity:
    """A person without papers (先行救助): no ID number, so no last four characters.

    The hash stands in for the number until it is added: a keyed hash of the name and
    current address (never of an ID number), so the same person registered twice collides
    as the same name and address does. The identification is part of the paperwork.
    """
    place = f"without papers\n{head_name.strip()}\n{current_address.strip()}"
    return Identity(id_hash=keyed_hash(secret_key, place), id_last4="")


def identity_of(id_number: str, *, secret_key: str, field: str = "id_number") -> Identity:
    """Normalise and validate an ID number, keep only its keyed hash and last four (else 400)."""
    try:
        number = normalise_id_number(id_number)
    except IdNumberError as invalid:
        raise Invalid(
            f"{field}: {invalid}", error="validation_error", field=field, message_id="bad_id_number"
        ) from None
    return Identity(id_hash=id_number_hash(secret_key, number), id_last4=number[-4:])
