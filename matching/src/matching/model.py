"""The engine's vocabulary: frozen, slotted, keyword-only dataclasses in and out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = (
    "ArrayProblem",
    "ArraySolution",
    "Assignment",
    "Household",
    "MarginalValue",
    "Need",
    "Offer",
    "Problem",
    "Progress",
    "RegionUnmet",
    "Solution",
    "Stats",
    "Totals",
    "Unmet",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """Supply: ``quantity`` whole units of ``kind`` at a point, for households within reach."""

    id: str
    kind: str
    quantity: int
    lat: float
    lon: float
    radius_km: float
    requires: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """Demand of one household for ``quantity`` units of ``kind``.

    Priority is either one ``weight`` for every unit or ``weights``, one per unit and
    non-increasing. Exactly one of the two is given.
    """

    kind: str
    quantity: int
    weight: float | None = None
    weights: tuple[float, ...] | None = None

    def unit_weight(self, unit: int) -> float:
        """The weight of the ``unit``-th unit (0-based) of this need."""
        if self.weights is not None:
            return self.weights[unit]
        assert self.weight is not None
        return self.weight


@dataclass(frozen=True, slots=True, kw_only=True)
class Household:
    """A household at a point, with its tags (``electricity``, ``coal_stove`` ...) and needs;
    ``region`` (an administrative code, optional) groups the unmet need in reports."""

    id: str
    lat: float
    lon: float
    tags: frozenset[str] = frozenset()
    needs: tuple[Need, ...] = ()
    region: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One matching round: open offers and the households' unmet needs."""

    offers: tuple[Offer, ...]
    households: tuple[Household, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Assignment:
    """``quantity`` units of ``kind`` from ``offer`` to ``household``."""

    offer: str
    household: str
    kind: str
    quantity: int
    distance_km: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unmet:
    """Units of a household's need that no offer serves, and why."""

    household: str
    kind: str
    quantity: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    """The two objectives and the number of units delivered."""

    weighted_units: float
    unit_km: float
    units: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    """How the answer was found and how good it is proven to be.

    ``optimal`` is true when the answer is the exact lexicographic optimum. Otherwise
    ``weighted_units_bound`` is a proven upper bound on the optimal weighted units and
    ``gap`` the distance from it (``relative_gap`` as a fraction of the bound).
    ``distance_resolution_km`` is the unit in which distances were rounded for the
    tie-break on unit-km; reported distances are never rounded.
    """

    status: Literal["optimal", "feasible"]
    optimal: bool
    weighted_units_bound: float
    gap: float
    relative_gap: float
    distance_resolution_km: float
    candidate_pairs: int
    arcs: int
    parts: int
    parts_optimal: int
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginalValue:
    """What one more unit of ``kind`` at a point (an offer's point) would do, exactly.

    ``offer`` is the offer there whose stock it would join (the one whose extra unit is
    worth most: its radius and required tags decide whom it reaches). ``weighted_units``
    is the priority-weighted units it adds to the optimum (0.0: it would serve no one);
    ``household`` is the household whose unit it would newly serve, ``distance_km`` that
    household's distance from the point, and ``unit_km`` the change of the optimum's
    total unit-km (which includes any rerouting of other units it allows).
    """

    kind: str
    lat: float
    lon: float
    offer: str
    weighted_units: float
    household: str | None
    distance_km: float | None
    unit_km: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionUnmet:
    """Units of ``kind`` of priority ``weight`` left unserved in ``region`` (None: no
    region given), and how many households they belong to."""

    region: str | None
    kind: str
    weight: float
    units: int
    households: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Solution:
    """The answer: assignments, the totals, the unmet needs and the solve statistics.

    With reports (the default of ``solve``), ``marginal_values`` has one row per kind and
    point with stock of the kind (parts solved exactly only), and ``unmet_by_region`` the
    unmet units by region, kind and priority.
    """

    assignments: tuple[Assignment, ...]
    totals: Totals
    unmet: tuple[Unmet, ...]
    stats: Stats
    marginal_values: tuple[MarginalValue, ...] = ()
    unmet_by_region: tuple[RegionUnmet, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """A progress report for long solves.

    ``interim`` carries a feasible answer with its proven gap as soon as one exists, so a
    caller can show it while the exact solve goes on.
    """

    stage: str
    done: int
    total: int
    message: str
    interim: Solution | None = None
    interim_arrays: ArraySolution | None = None


IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class ArrayProblem:
    """A :class:`Problem` as numpy columns: one row per offer, per household, per need.

    Kinds and tags are codes into ``kinds`` and ``tags``. Lists per row are CSR: the
    tags of household ``h`` are ``household_tags[household_tags_start[h]:
    household_tags_start[h + 1]]``, likewise ``offer_requires``. Needs are listed
    household by household (``need_household`` never decreases); need ``i`` has either
    one weight for every unit or one weight per unit (non-increasing):
    ``need_weights[need_weights_start[i]:need_weights_start[i + 1]]``.
    Integer columns are any integer dtype, the others any real dtype.
    ``household_region`` (optional) holds codes into ``regions``, -1 for none.
    """

    kinds: tuple[str, ...]
    tags: tuple[str, ...] = ()
    offer_id: tuple[str, ...]
    offer_kind: IntArray
    offer_quantity: IntArray
    offer_lat: FloatArray
    offer_lon: FloatArray
    offer_radius_km: FloatArray
    offer_requires_start: IntArray
    offer_requires: IntArray
    household_id: tuple[str, ...]
    household_lat: FloatArray
    household_lon: FloatArray
    household_tags_start: IntArray
    household_tags: IntArray
    need_household: IntArray
    need_kind: IntArray
    need_quantity: IntArray
    need_weights_start: IntArray
    need_weights: FloatArray
    regions: tuple[str, ...] = ()
    household_region: IntArray | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArraySolution:
    """A :class:`Solution` as numpy columns, indices into its :class:`ArrayProblem`.

    One assignment row per (household, kind, offer), in the order of ``Solution``. The
    units a row serves are described by its priority groups (CSR over ``priority_*``):
    units ``priority_first`` to ``priority_stop - 1`` (0-based) of the household's need,
    each of weight ``priority_weight``; they make the row's reason. One unmet row per
    need not served in full; ``unmet_cause`` is 0 (no offer of the kind), 1 (no eligible
    offer within reach) or 2 (the offers in reach went to higher-priority or nearer
    needs), ``unmet_weight`` the weight of its first unserved unit.

    Reports (see :class:`MarginalValue` and :class:`RegionUnmet`): one ``marginal_*`` row
    per kind and point with stock, named by the offer there whose extra unit is worth
    most (its kind and point are the row's); ``marginal_household`` is -1 and the
    distances NaN when the unit would serve no one. ``region_unmet_*`` rows by region
    code (-1: none), kind and weight.
    """

    assignment_offer: IntArray
    assignment_household: IntArray
    assignment_kind: IntArray
    assignment_quantity: IntArray
    assignment_km: FloatArray
    assignment_priority_start: IntArray
    priority_weight: FloatArray
    priority_first: IntArray
    priority_stop: IntArray
    need_served: IntArray
    unmet_need: IntArray
    unmet_household: IntArray
    unmet_kind: IntArray
    unmet_quantity: IntArray
    unmet_cause: IntArray
    unmet_weight: FloatArray
    totals: Totals
    stats: Stats
    marginal_offer: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    marginal_weight: FloatArray = field(default_factory=lambda: np.empty(0, np.float64))
    marginal_household: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    marginal_km: FloatArray = field(default_factory=lambda: np.empty(0, np.float64))
    marginal_unit_km: FloatArray = field(default_factory=lambda: np.empty(0, np.float64))
    region_unmet_region: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    region_unmet_kind: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    region_unmet_weight: FloatArray = field(default_factory=lambda: np.empty(0, np.float64))
    region_unmet_units: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    region_unmet_households: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
