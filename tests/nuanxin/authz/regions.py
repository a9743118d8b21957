"""Authorisation policy of the regions endpoints (public data: the maps' base layer)."""

from __future__ import annotations

from tests.nuanxin.authz.model import EVERYONE, Rule

POLICY: dict[str, Rule] = {
    "ListRegionOutlines": Rule(allowed=EVERYONE),
    "SearchRegions": Rule(allowed=EVERYONE, query={"q": "呼兰"}),
}
