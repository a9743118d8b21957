"""The region picker's options: the regions whose name holds what was typed (public; the
forms' region fields fill their ``<datalist>`` from here as one types)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from nuanxin.regions.gazetteer import LEVELS
from nuanxin.regions.services import search_regions
from nuanxin.web import PageController, page

__all__ = ("RegionPages",)


class RegionPages(PageController):
    path = "/regions"

    @get("/options", exclude_from_auth=True)
    async def options(
        self,
        request: Request[Any, Any, Any],
        levels: FromQuery[str] = "county,township",
        within: FromQuery[str] = "",
    ) -> Template:
        """``<option>`` elements for the first field of the query that is not ``levels`` or
        ``within`` (the field's own name, as htmx sends it)."""
        wanted = [level for level in levels.split(",") if level in LEVELS] or ["county"]
        text = next(
            (v for k, v in request.query_params.items() if k not in {"levels", "within", "lang"}),
            "",
        )
        prefix = within if within.isdigit() else None
        found = await search_regions(str(text)[:40], levels=wanted, within=prefix)
        return page(request, "partials/region_options.html.j2", {"regions": found})
