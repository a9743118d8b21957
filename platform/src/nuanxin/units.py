"""Units of quantity, and exact conversion between them: a pure module (no I/O).

Every catalogue item is counted in one unit, its *counting unit* (``Item.unit``): stock,
needs, proposals, allocations and the matching engine all hold whole numbers of it. Coal is
counted in 25 kg bags (:attr:`Unit.bag_25kg`), everything else in pieces (:attr:`Unit.piece`;
a coat, a quilt, a blanket, a stove).

A quantity may be *given* in any unit of the same measure as the item's counting unit: coal in
bags, kilograms (:attr:`Unit.kg`) or tonnes (:attr:`Unit.t`). :func:`to_count` converts it with
exact arithmetic (decimal in, integer out, no floating point): 1.5 t of coal is exactly 60 bags.
A quantity that is not a whole number of counting units (1.01 t is 40.4 bags) is refused,
naming its field, never rounded: matching stays exact.

Why coal is counted in bags and not in kilograms: a household's priority weight falls with
each unit it receives (:data:`nuanxin.households.demand.UNIT_DECAY`), the engine's network and
its per-unit weights grow with the number of units, and bags are what a courier hands over.
Counting in kilograms would multiply all three by 25 and hand out 37 kg. The counting unit is
the catalogue's, so a deployment that wants another one changes its catalogue (and its data)
in a migration, not this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Any, Final

import msgspec

from nuanxin.errors import Invalid

__all__ = (
    "MAX_COUNT",
    "Amount",
    "GivenUnit",
    "OptionalAmount",
    "Unit",
    "amount_schema",
    "from_count",
    "given_unit",
    "to_count",
    "units_for",
)


class Unit(StrEnum):
    """A unit a quantity is counted or given in."""

    piece = "piece"  # one coat, quilt, blanket or stove
    bag_25kg = "bag_25kg"  # a 25 kg bag of coal
    kg = "kg"
    t = "t"  # a tonne, 1000 kg


#: The measure of each unit, and its size in the measure's smallest whole unit (kg for mass).
MEASURE: Final[Mapping[Unit, tuple[str, int]]] = {
    Unit.piece: ("count", 1),
    Unit.bag_25kg: ("mass", 25),
    Unit.kg: ("mass", 1),
    Unit.t: ("mass", 1000),
}

#: The most counting units one quantity may hold (an offer, a need).
MAX_COUNT: Final = 1_000_000

# Beyond this many decimal places no amount is a whole number of counting units (sizes are
# at most 10**9 of the smallest unit); refusing earlier keeps hostile exponents cheap.
_MAX_PLACES: Final = 9


def amount_schema(*, minimum: int = 1, nullable: bool = False) -> msgspec.Meta:
    """How an amount field reads in OpenAPI: a JSON number (a decimal string is accepted
    too), in the body's ``unit``; converted exactly, never through a float."""
    extra: dict[str, Any] = {
        "type": ["number", "null"] if nullable else "number",
        "one_of": None,  # not "integer or string", as the Python type would say
        ("exclusive_minimum" if minimum else "minimum"): 0,
    }
    return msgspec.Meta(
        extra_json_schema={
            "description": (
                "how much, in `unit` (default: the item's counting unit); decimals allowed "
                "(1.5 t). It must come to a whole number of the item's counting unit "
                "(coal: 25 kg bags, so 1.5 t = 60 bags; 1.01 t is refused with 400)"
            ),
            "examples": [40, 1.5],
            "extra": extra,
        }
    )


#: An amount as a client gives it: decoded exactly (JSON ``1.1`` is ``Decimal("1.1")``).
Amount = Annotated[int | Decimal, amount_schema()]
#: The same, optional (left out: unchanged).
OptionalAmount = Annotated[int | Decimal | None, amount_schema(nullable=True)]

#: The unit an amount is given in (left out: the item's counting unit).
GivenUnit = Annotated[
    Unit | None,
    msgspec.Meta(
        description=(
            "the unit of `quantity`: `bag_25kg`, `kg` or `t` for coal, `piece` for the rest; "
            "left out, the item's counting unit (the catalogue's `unit`)"
        )
    ),
]


def units_for(counting: Unit) -> tuple[Unit, ...]:
    """The units a quantity of an item counted in ``counting`` may be given in (it first)."""
    measure = MEASURE[counting][0]
    return (counting, *(u for u in Unit if u is not counting and MEASURE[u][0] == measure))


def given_unit(unit: Unit | str | None, *, counting: Unit, field: str = "unit") -> Unit:
    """The unit a quantity of an item counted in ``counting`` is given in, or 400 (naming
    ``field``) for a word that is no unit or a unit of another measure. None: ``counting``."""
    accepted = ", ".join(units_for(counting))
    try:
        given = counting if unit is None or unit == "" else Unit(unit)
    except ValueError:
        raise Invalid(
            f"{field}: {unit!r} is not a unit; one of {accepted}",
            field=field,
            message_id="unknown_unit",
            params={"unit": str(unit), "units": accepted},
        ) from None
    if given not in units_for(counting):
        raise Invalid(
            f"{field}: this item is counted in {counting.value}; give it in one of {accepted}",
            field=field,
            message_id="unit_not_for_item",
            params={"unit": given.value, "units": accepted},
        )
    return given


def _exact(value: Decimal) -> Fraction | None:
    """A finite decimal as a fraction, without expanding hostile exponents: with more than
    ``_MAX_PLACES`` significant decimal places it is no whole number of any unit (None)."""
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    significant = text.rstrip("0")
    if not significant:
        return Fraction(0)
    exponent += len(text) - len(significant)
    if exponent < -_MAX_PLACES:
        return None
    number = int(significant) * (-1 if sign else 1)
    return Fraction(number * 10 ** max(exponent, 0), 10 ** max(-exponent, 0))


def to_count(
    amount: Decimal | int,
    unit: Unit | str | None,
    *,
    counting: Unit,
    field: str = "quantity",
    unit_field: str = "unit",
    minimum: int = 1,
    maximum: int = MAX_COUNT,
) -> int:
    """``amount`` of ``unit`` as a whole number of ``counting`` units, exactly, or 400.

    ``unit`` None means the counting unit itself. Refuses (naming ``unit_field``) a unit that
    is not one, or not of the item's measure; refuses (naming ``field``) an amount that is not
    a whole number of counting units or falls outside ``minimum``..``maximum`` of them.
    """
    given = given_unit(unit, counting=counting, field=unit_field)
    value = Decimal(amount)
    high = Decimal(maximum) * MEASURE[counting][1] / MEASURE[given][1]
    if not value.is_finite() or value < 0 or value > high:
        raise Invalid(
            f"{field}: {amount} {given.value} is outside 0..{high.normalize():f} {given.value}",
            field=field,
            message_id="quantity_out_of_range",
            params={"minimum": f"{minimum:,}", "maximum": f"{maximum:,}"},
        )
    exact = _exact(value)
    whole = None if exact is None else exact * MEASURE[given][1] / MEASURE[counting][1]
    if whole is None or whole.denominator != 1:
        raise Invalid(
            f"{field}: {value} {given.value} is not a whole number of {counting.value}",
            field=field,
            message_id="bags_not_whole" if counting is Unit.bag_25kg else "quantity_not_whole",
            # the amount as given: never expanded (1E-999999999 stays short)
            params={"amount": str(value), "unit": given.value, "counting": counting.value},
        )
    count = int(whole)
    if not minimum <= count <= maximum:
        raise Invalid(
            f"{field}: {count} {counting.value} is outside {minimum}..{maximum}",
            field=field,
            message_id="quantity_out_of_range",
            params={"minimum": f"{minimum:,}", "maximum": f"{maximum:,}"},
        )
    return count


def from_count(count: int, counting: Unit, unit: Unit) -> Decimal:
    """``count`` counting units in ``unit``, exactly (60 bags of 25 kg are 1.5 t)."""
    if MEASURE[unit][0] != MEASURE[counting][0]:
        raise ValueError(f"{counting.value} and {unit.value} measure different things")
    return (Decimal(count) * MEASURE[counting][1] / MEASURE[unit][1]).normalize()
