"""Resident ID numbers: format, birth date and check character."""

from __future__ import annotations

import pytest

from nuanxin.households.identity import IdNumberError, check_character, normalise_id_number


def test_a_known_valid_number_passes_and_is_normalised() -> None:
    assert check_character("11010519491231002") == "X"
    assert normalise_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("1101051949123100", "18 characters"),
        ("11010519491231002A", "17 digits"),
        ("110105194913310021", "not a date"),
        ("110105219912310021", "plausible"),
        ("110105194912310021", "check character"),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(number: str, why: str) -> None:
    with pytest.raises(IdNumberError, match=why) as refused:
        normalise_id_number(number)
    assert number not in str(refused.value)
