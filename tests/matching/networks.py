"""Direct networks (``matching.face.Direct``) built by hand, for the tests of the cuts and
the face."""

from __future__ import annotations

import numpy as np

from matching.face import Direct


def hand_network(
    supply: list[int], pairs: list[tuple[int, int, int]], levels: list[tuple[int, int, int]]
) -> Direct:
    """A direct network by hand: offers' supplies, (offer, demand node, capacity) pairs and
    (demand node, level, units) level arcs."""
    demand0 = 2 + len(supply)
    n_demand = 1 + max([node for _, node, _ in pairs] + [node for node, _, _ in levels])
    tails = [0] * len(supply) + [2 + o for o, _, _ in pairs] + [demand0 + n for n, _, _ in levels]
    heads = list(range(2, demand0)) + [demand0 + n for _, n, _ in pairs] + [1] * len(levels)
    capacities = supply + [c for *_, c in pairs] + [u for *_, u in levels]
    level_of_arc = np.array([level for _, level, _ in levels], dtype=np.int64)
    costs = [0] * (len(supply) + len(pairs)) + (-(level_of_arc + 1)).tolist()
    first_level = len(supply) + len(pairs)
    return Direct(
        tails=np.array(tails, dtype=np.int64),
        heads=np.array(heads, dtype=np.int64),
        capacities=np.array(capacities, dtype=np.int64),
        costs=np.array(costs, dtype=np.int64),
        nodes=demand0 + n_demand,
        demand0=demand0,
        pairs=slice(len(supply), first_level),
        levels=slice(first_level, len(tails)),
        level_of_arc=level_of_arc,
        level_total=1 + int(level_of_arc.max()),
    )
