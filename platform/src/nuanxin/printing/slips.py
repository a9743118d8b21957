"""What a printed delivery slip shows, and nothing more (UI.md, "Print batches of slips").

A slip is for one household visit: one code for all its items. It shows the platform's name,
the date, the village group, the visit number, the household's reference, the head's name
masked (王**), the address, the charity, the items with their units, the code in groups of four
with its QR code, lines for the date and signature, the safety note and the hotline. Never the
ID number, the category or the full phone number: :class:`Slip` has no field for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from nuanxin.privacy import mask_name

__all__ = ("Slip", "SlipItem", "group_code", "slip_numbers")


@dataclass(frozen=True, slots=True, kw_only=True)
class SlipItem:
    """One line of a slip: what, how many, in what unit (“取暖煤 3 袋（75 公斤）”)."""

    name: str
    quantity: int
    unit: str
    note: str = ""  # e.g. "75 公斤" for three 25 kg bags


@dataclass(frozen=True, slots=True, kw_only=True)
class Slip:
    """One household visit on paper."""

    reference: str  # the household's reference, e.g. HH000005
    head_name: str  # masked when shown; the full name never reaches the page
    village: str  # village group (村组)
    address: str
    charity: str
    visit_no: int  # the household's n-th visit this winter
    date: date
    items: Sequence[SlipItem]
    code: str  # the delivery code, digits only
    reprint: bool = False

    @property
    def masked_name(self) -> str:
        return mask_name(self.head_name)

    @property
    def grouped_code(self) -> str:
        return group_code(self.code)


def group_code(code: str) -> str:
    """``"12345678"`` -> ``"1234 5678"``: groups of four, read aloud and typed without slips."""
    digits = "".join(code.split())
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def slip_numbers(count: int, *, per_page: int) -> list[tuple[int, int]]:
    """(page n, of N) for each of ``count`` slips printed ``per_page`` to a sheet."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    pages = max(1, -(-count // per_page))
    return [(i // per_page + 1, pages) for i in range(count)]
