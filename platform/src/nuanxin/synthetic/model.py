"""The synthetic dataset in columnar form: numpy arrays, one row per entity.

Everything is indexed by position: household ``i`` has id ``f"h{i}"``, its members are rows
``member_start[i]:member_start[i + 1]`` of :class:`Members`, its need for ``KINDS[k]`` is
``need_quantity[i, k]`` units whose weights are ``need_weight[i, k] * UNIT_DECAY[k] ** j``
(``j`` = 0, 1, ...: non-increasing). Names and addresses are built on demand from small index
arrays, so a million households stay a few hundred megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nuanxin.regions.gazetteer import Division

__all__ = (
    "CATEGORIES",
    "CATEGORY_SHARES",
    "GIVEN_NAMES",
    "KINDS",
    "REQUIRES",
    "SURNAMES",
    "TAGS",
    "UNIT_DECAY",
    "Charities",
    "Dataset",
    "Donors",
    "Households",
    "Members",
    "Offers",
    "Villages",
)

KINDS = ("coal", "coat_adult", "coat_child", "quilt", "electric_blanket", "stove")
"""Item kinds; ``coal`` is counted in 25 kg bags, the others in pieces."""
REQUIRES: dict[str, tuple[str, ...]] = {
    "coal": ("coal_stove",),
    "coat_adult": (),
    "coat_child": (),
    "quilt": (),
    "electric_blanket": ("electricity",),
    "stove": (),
}
"""The household tags an offer of each kind requires."""
TAGS = ("coal_stove", "electricity")
UNIT_DECAY = np.array([0.97, 0.9, 0.9, 0.85, 0.8, 1.0])
"""Each further unit of a kind weighs this much of the one before (same order as KINDS)."""

CATEGORIES = ("dibao", "extremely_poor", "near_dibao", "temporary")
_PEOPLE_MILLIONS = np.array([40.0, 4.7, 6.0])
"""People on 低保, 特困 and 低保边缘 nationally (Ministry of Civil Affairs, mid-2020s)."""
TEMPORARY_SHARE = 0.03
CATEGORY_SHARES = np.append(
    _PEOPLE_MILLIONS / _PEOPLE_MILLIONS.sum() * (1.0 - TEMPORARY_SHARE), TEMPORARY_SHARE
)
"""Target share of households per category (the national head counts, normalised, plus a
small share of households on temporary assistance 临时救助)."""

SURNAMES = tuple("王李张刘陈杨赵黄周吴徐孙马朱胡郭何林高罗")
GIVEN_NAMES = tuple(a + b for a in "甲乙丙丁戊己庚辛壬癸" for b in "子丑寅卯辰巳午未申酉戌亥")
"""Stem-branch pairs: names nobody carries, so a synthetic record is never mistaken for one."""

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, kw_only=True)
class Villages:
    """Points around county seats where several households live (one geocoded place)."""

    county: IntArray
    number: IntArray  # 测试{number}村 within its county
    lat: FloatArray
    lon: FloatArray


@dataclass(frozen=True, slots=True, kw_only=True)
class Households:
    """One row per household; ``member_start`` has one more entry than there are rows."""

    county: IntArray
    village: IntArray
    house_number: IntArray
    lat: FloatArray
    lon: FloatArray
    category: npt.NDArray[np.int8]  # index into CATEGORIES
    size: npt.NDArray[np.int8]
    lives_alone: BoolArray
    coal_stove: BoolArray
    electricity: BoolArray
    surname: npt.NDArray[np.int16]
    given_name: npt.NDArray[np.int16]
    member_start: npt.NDArray[np.int64]
    need_quantity: npt.NDArray[np.int16]  # (n, len(KINDS))
    need_weight: FloatArray  # (n, len(KINDS)): weight of the first unit
    priority_reasons: npt.NDArray[np.uint8]  # bit flags, see REASONS

    def __len__(self) -> int:
        return len(self.county)


REASONS = ("extremely_poor", "lives_alone", "disabled", "elderly", "children")
"""Bits of ``Households.priority_reasons``, in order: what raised the household's weight."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Members:
    household: IntArray
    relation: npt.NDArray[np.int8]  # index into RELATIONS
    birth_year: npt.NDArray[np.int16]
    sex: npt.NDArray[np.int8]  # 0 female, 1 male
    disability_level: npt.NDArray[np.int8]  # 0 none, 1..4 as on the disability card

    def __len__(self) -> int:
        return len(self.household)


RELATIONS = ("self", "spouse", "child", "parent")


@dataclass(frozen=True, slots=True, kw_only=True)
class Charities:
    """Charities; warehouse ``w`` belongs to ``warehouse_charity[w]`` in ``warehouse_county``."""

    count: int
    warehouse_charity: IntArray
    warehouse_county: IntArray
    warehouse_lat: FloatArray
    warehouse_lon: FloatArray

    def __len__(self) -> int:
        return self.count


@dataclass(frozen=True, slots=True, kw_only=True)
class Offers:
    warehouse: IntArray
    kind: npt.NDArray[np.int8]  # index into KINDS
    quantity: IntArray
    lat: FloatArray
    lon: FloatArray
    radius_km: FloatArray

    def __len__(self) -> int:
        return len(self.kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class Donors:
    amount_cny: IntArray  # what each donor gave this winter

    def __len__(self) -> int:
        return len(self.amount_cny)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dataset:
    """A generated world; same ``seed`` and sizes, same dataset."""

    seed: int | None
    year: int
    counties: tuple[Division, ...]
    villages: Villages
    households: Households
    members: Members
    charities: Charities
    offers: Offers
    donors: Donors

    # -- names and addresses, clearly synthetic ------------------------------------------------

    def head_name(self, i: int) -> str:
        h = self.households
        return f"测试{SURNAMES[h.surname[i]]}{GIVEN_NAMES[h.given_name[i]]}"

    def address(self, i: int) -> str:
        """``<county full name>测试<n>村<m>号``: the offline geocoder places it in its county."""
        h = self.households
        village = int(h.village[i])
        county = self.counties[h.county[i]]
        return f"{county.full_name}测试{self.villages.number[village]}村{h.house_number[i]}号"

    def charity_name(self, c: int) -> str:
        return f"测试暖心公益{c + 1}号"

    def donor_name(self, d: int) -> str:
        return f"测试捐赠人{d + 1}"

    def tags(self, i: int) -> list[str]:
        h = self.households
        return [
            tag for tag, has in zip(TAGS, (h.coal_stove[i], h.electricity[i]), strict=True) if has
        ]

    def weights(self, i: int, k: int) -> list[float]:
        q = int(self.households.need_quantity[i, k])
        w = self.households.need_weight[i, k] * UNIT_DECAY[k] ** np.arange(q)
        return [round(float(x), 4) for x in w]

    # -- the matching engine's instance --------------------------------------------------------

    def instance_offers(self) -> list[dict[str, Any]]:
        """The offers as the engine's instance lists them."""
        o = self.offers
        return [
            {
                "id": f"o{j}",
                "kind": KINDS[o.kind[j]],
                "quantity": int(o.quantity[j]),
                "lat": float(o.lat[j]),
                "lon": float(o.lon[j]),
                "radius_km": float(o.radius_km[j]),
                "requires": list(REQUIRES[KINDS[o.kind[j]]]),
            }
            for j in range(len(o))
        ]

    def to_instance(self) -> dict[str, Any]:
        """The engine's instance as a dict (use ``writers.write_instance`` for big datasets)."""
        h = self.households
        households = []
        for i in range(len(h)):
            needs: list[dict[str, Any]] = []
            for k in np.flatnonzero(h.need_quantity[i]):
                weights = self.weights(i, int(k))
                need: dict[str, Any] = {"kind": KINDS[k], "quantity": len(weights)}
                if len(weights) == 1:
                    need["weight"] = weights[0]
                else:
                    need["weights"] = weights
                needs.append(need)
            households.append(
                {
                    "id": f"h{i}",
                    "lat": float(h.lat[i]),
                    "lon": float(h.lon[i]),
                    "tags": self.tags(i),
                    "needs": needs,
                }
            )
        return {"offers": self.instance_offers(), "households": households}
