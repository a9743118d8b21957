"""The Nuanxin matching engine: a pure library (numpy, scipy, OR-Tools).

``solve(problem) -> Solution`` assigns donated units to households' needs, first
maximising the priority-weighted units delivered and then, among all such assignments,
minimising the total unit-kilometres. See ``matching/README.md`` for the file format.
"""

from matching.engine import solve
from matching.instance import Instance, parse_instance, solution_to_json
from matching.model import (
    Assignment,
    Household,
    Need,
    Offer,
    Problem,
    Progress,
    Solution,
    Stats,
    Totals,
    Unmet,
)
from matching.validate import InvalidProblemError

__all__ = (
    "Assignment",
    "Household",
    "Instance",
    "InvalidProblemError",
    "Need",
    "Offer",
    "Problem",
    "Progress",
    "Solution",
    "Stats",
    "Totals",
    "Unmet",
    "parse_instance",
    "solution_to_json",
    "solve",
)
