"""The JSON API of the regions area: looking a region up, and the maps' offline base (GeoJSON)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.params import QueryParameter

from nuanxin.errors import Invalid
from nuanxin.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from nuanxin.regions import services
from nuanxin.regions.gazetteer import LEVELS
from nuanxin.regions.outlines import Bounds, areas_for
from nuanxin.responses import error_responses

__all__ = ("OutlineController", "RegionController")


class RegionHit(msgspec.Struct, kw_only=True):
    """A region found by name or code: what a form needs to fill in ``region_code``."""

    code: str
    name: str
    full_name: str
    level: str


class RegionController(Controller):
    path = "/api/regions"
    tags = ("regions",)

    @get(
        operation_id="SearchRegions",
        exclude_from_auth=True,
        security=[{}],
        cache_control=CacheControlHeader(max_age=3600, public=True),
        responses=error_responses(400),
        summary="Look up a region code by name or code",
        description=(
            "Regions whose name or full name contains `q`, or whose code starts with it "
            "(`?q=呼兰` finds 呼兰区 230111), shortest names first. `level` narrows to "
            "province, city, county or township (repeat it for several). Paged with "
            "`limit` and `offset`. The code is what sign-up, households and campaigns take "
            "as `region_code`."
        ),
    )
    async def search(
        self,
        q: Annotated[str, QueryParameter(min_length=1, max_length=40)],
        level: Annotated[
            list[Literal["province", "city", "county", "township"]] | None,
            QueryParameter(required=False),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000)] = 0,
    ) -> Page[RegionHit]:
        found, total = await services.find_regions(
            query=q,
            levels=[name for name in LEVELS if name in (level or ())],
            limit=limit,
            offset=offset,
        )
        return Page(
            items=[
                RegionHit(code=r.code, name=r.name, full_name=r.full_name, level=r.level)
                for r in found
            ],
            total=total,
            limit=limit,
            offset=offset,
        )


class OutlineProperties(msgspec.Struct, kw_only=True):
    code: str
    name: str
    level: str
    #: The seat, where the label goes.
    lat: float
    lon: float
    #: In the region asked for (drawn stronger), or a neighbour framing it.
    in_region: bool
    #: Always true: drawn around the seats, not a legal boundary.
    approximate: bool = True


class Polygon(msgspec.Struct, kw_only=True):
    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[float, float]]]


class Feature(msgspec.Struct, kw_only=True):
    type: Literal["Feature"] = "Feature"
    properties: OutlineProperties
    geometry: Polygon


class FeatureCollection(msgspec.Struct, kw_only=True):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


class OutlineController(Controller):
    path = "/api/regions/outlines"
    tags = ("regions",)

    @get(
        operation_id="ListRegionOutlines",
        exclude_from_auth=True,
        security=[{}],
        cache_control=CacheControlHeader(max_age=86400, public=True),
        responses=error_responses(400),
        summary="Approximate areas of the counties of a region or a box, as GeoJSON",
        description=(
            "The maps' offline base: each county's area is drawn around its seat (the places "
            "nearer it than any other seat), not its legal boundary. `region` is a division "
            "code (its counties, or a county and its neighbours); `bbox` is "
            "`west,south,east,north` in WGS-84 degrees (the counties whose seats lie in it; "
            "prefectures or provinces when the box holds more than 400 counties)."
        ),
    )
    async def outlines(
        self,
        region: Annotated[
            str | None, QueryParameter(pattern=r"^\d{6}(\d{3})?$", required=False)
        ] = None,
        bbox: Annotated[str | None, QueryParameter(max_length=100, required=False)] = None,
    ) -> FeatureCollection:
        bounds = None
        if bbox:
            bounds = Bounds.parse(bbox)
            if bounds is None:
                raise Invalid("bbox must be west,south,east,north in degrees", field="bbox")
        areas = areas_for(region=region, bounds=bounds) if region or bounds else []
        return FeatureCollection(
            features=[
                Feature(
                    properties=OutlineProperties(
                        code=area.code,
                        name=area.name,
                        level=area.level,
                        lat=area.lat,
                        lon=area.lon,
                        in_region=area.in_region,
                    ),
                    geometry=Polygon(coordinates=[list(area.ring)]),
                )
                for area in areas
            ]
        )
