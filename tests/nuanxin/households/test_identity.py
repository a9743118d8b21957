"""Resident ID numbers: one person has one hash however the number is typed, and only valid
numbers (real birth date, right check character) get one."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuanxin.errors import Invalid
from nuanxin.households.identity import (
    IdNumberError,
    check_character,
    id_number_hash,
    identity_of,
    normalise_id_number,
)

KEY = "a-test-key"
NUMBER = "11010519491231002X"  # a published example: check character X
TODAY = date(2026, 11, 30)


def valid(first17: str) -> str:
    return first17 + check_character(first17)


def test_a_known_valid_number_passes_and_is_normalised() -> None:
    assert check_character("11010519491231002") == "X"
    assert normalise_id_number(" 11010519491231002x ") == NUMBER


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("1101051949123100", "18 characters"),
        ("11010519491231002A", "17 digits"),
        ("110105194913310021", "not a date"),
        ("110105194902290021", "not a date"),  # 1949 was not a leap year
        ("110105219912310021", "plausible"),
        ("110105194912310021", "check character"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(number: str, why: str) -> None:
    with pytest.raises(IdNumberError, match=why) as refused:
        normalise_id_number(number)
    assert number not in str(refused.value)


# Spellings that NFKC reads as each ASCII digit: full-width, mathematical bold, double-struck,
# sans-serif and monospace digits.
DIGIT_FORMS = (0x30, 0xFF10, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7F6)
X_FORMS = ("X", "x", "Ｘ", "ｘ")
SPACES = ("", " ", "\t", "\u3000", "\u00a0", "\u2002", "\n")


def spelling(number: str) -> st.SearchStrategy[str]:
    """Any Unicode spelling of ``number``: each character in any of its forms, any spaces."""

    def forms(character: str) -> st.SearchStrategy[str]:
        if character == "X":
            return st.sampled_from(X_FORMS)
        return st.sampled_from([chr(base + int(character)) for base in DIGIT_FORMS])

    pieces = [st.tuples(st.sampled_from(SPACES), forms(character)) for character in number]
    return st.tuples(*pieces, st.sampled_from(SPACES)).map(
        lambda parts: "".join(space + char for space, char in parts[:-1]) + parts[-1]
    )


@st.composite
def numbers_and_spellings(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.from_regex(r"[1-6][0-9]{5}", fullmatch=True))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    number = valid(f"{region}{born:%Y%m%d}{sequence:03d}")
    return number, draw(spelling(number))


@given(numbers_and_spellings())
def test_every_unicode_spelling_of_one_number_hashes_the_same(pair: tuple[str, str]) -> None:
    number, spelt = pair
    assert normalise_id_number(spelt, today=TODAY) == number
    assert identity_of(spelt, secret_key=KEY) == identity_of(number, secret_key=KEY)
    assert identity_of(spelt, secret_key=KEY).id_hash == id_number_hash(KEY, number)


@pytest.mark.parametrize(
    "digits",
    [
        "٠١٢٣٤٥٦٧٨٩",  # Arabic-Indic
        "۰۱۲۳۴۵۶۷۸۹",  # Extended Arabic-Indic
        "०१२३४५६७८९",  # Devanagari
        "০১২৩৪৫৬৭৮৯",  # Bengali
        "๐๑๒๓๔๕๖๗๘๙",  # Thai
    ],
)
def test_other_scripts_digits_are_refused(digits: str) -> None:
    spelt = "".join(digits[int(c)] if c.isdigit() else c for c in NUMBER)
    with pytest.raises(IdNumberError, match="0-9"):
        normalise_id_number(spelt)
    with pytest.raises(Invalid):
        identity_of(spelt, secret_key=KEY)


def test_inner_spaces_of_every_kind_are_removed() -> None:
    for spelt in ("110105 19491231 002X", "1101 0519 4912 3100 2x", "110105\u300019491231\t002X"):
        assert normalise_id_number(spelt) == NUMBER


@given(st.from_regex(r"[1-6][0-9]{5}19[5-9][0-9]0[1-9]1[0-9][0-9]{3}", fullmatch=True))
def test_a_number_ending_in_x_with_a_wrong_check_character_is_refused(first17: str) -> None:
    right = check_character(first17)
    for wrong in {"X", "x", "Ｘ"} if right != "X" else {str(d) for d in range(10)}:
        with pytest.raises(IdNumberError, match="check character"):
            normalise_id_number(first17 + wrong)


def test_the_hash_is_keyed_over_the_normalised_number() -> None:
    spelt = "１１０１０５１９４９１２３１００２ｘ"
    mine, other = identity_of(spelt, secret_key=KEY), identity_of(spelt, secret_key="other")
    assert mine.id_hash != other.id_hash
    assert mine.id_hash == id_number_hash(KEY, NUMBER) != id_number_hash(KEY, spelt)
    assert NUMBER not in mine.id_hash and mine.id_last4 == "002X"


@pytest.mark.parametrize(
    ("born", "accepted"),
    [
        (date(1899, 12, 31), False),
        (date(1900, 1, 1), True),
        (TODAY, True),
        (TODAY + timedelta(days=1), False),
    ],
)
def test_birth_dates_are_bounded_at_the_exact_edges(born: date, accepted: bool) -> None:
    number = valid(f"110105{born:%Y%m%d}002")
    if accepted:
        assert normalise_id_number(number, today=TODAY) == number
    else:
        with pytest.raises(IdNumberError, match="plausible"):
            normalise_id_number(number, today=TODAY)
