"""The Nuanxin matching engine: a pure library (numpy, scipy, OR-Tools).

``solve(problem) -> Solution`` assigns donated units to households' needs, first
maximising the priority-weighted units delivered and then, among all such assignments,
minimising the total unit-kilometres. See ``matching/README.md`` for the file format.
"""

from matching.arrays import problem_to_arrays, solution_from_arrays
from matching.engine import solve, solve_arrays
from matching.instance import Instance, parse_instance, solution_to_json
from matching.model import (
    ArrayProblem,
    ArraySolution,
    Assignment,
    Household,
    MarginalValue,
    Need,
    Offer,
    Problem,
    Progress,
    RegionUnmet,
    Solution,
    Stats,
    Totals,
    Unmet,
)
from matching.routes import (
    InvalidRouteError,
    Route,
    RouteProblem,
    Stop,
    nearest_neighbour_route,
    plan_route,
)
from matching.validate import InvalidProblemError
from matching.whatif import WhatIf, what_if_radius, what_if_stock

__all__ = (
    "ArrayProblem",
    "ArraySolution",
    "Assignment",
    "Household",
    "Instance",
    "InvalidProblemError",
    "InvalidRouteError",
    "MarginalValue",
    "Need",
    "Offer",
    "Problem",
    "Progress",
    "RegionUnmet",
    "Route",
    "RouteProblem",
    "Solution",
    "Stats",
    "Stop",
    "Totals",
    "Unmet",
    "WhatIf",
    "nearest_neighbour_route",
    "parse_instance",
    "plan_route",
    "problem_to_arrays",
    "solution_from_arrays",
    "solution_to_json",
    "solve",
    "solve_arrays",
    "what_if_radius",
    "what_if_stock",
)
