"""A household's point: the best one known, and where it came from.

Best first (:data:`~nuanxin.households.vocabulary.LOCATION_RANK`): a **pin** staff placed on the
map (or typed as latitude/longitude), a **courier**'s position at the first confirmed visit once
staff accepted it, the **township**'s centre, the **county**'s centre. Matching, routes and
maps read the household's ``lat``/``lon``, which is always the best point known, and its
``location_source`` says which.

Rules kept here:

* Staff of the household's jurisdiction place a pin (:func:`place_pin`); it replaces any
  point. Audited with the point before and after.
* A courier's position, shared with consent when the household's first visit is confirmed,
  becomes a pending suggestion (:func:`suggest_from_courier`): one a household, never
  changing the point by itself. Staff of the jurisdiction accept or reject it once
  (:func:`decide_suggestion`); accepting moves the point unless a pin is there (a pin is
  better: the suggestion is then accepted and the pin kept, and the audit entry says so).
* Township centres: the shipped gazetteer (``fixtures/regions``) has no licensed coordinates
  for townships; their rows carry their county's point, so a township household's point is
  its county's centre and says ``county``. Should a township get a point of its own (a licensed
  dataset loaded into ``region``), :func:`region_point_source` says ``township`` for it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import matching.geo
from nuanxin.audit.services import record
from nuanxin.db import atomic
from nuanxin.errors import Conflict, Forbidden, NotFound
from nuanxin.households.read_model import household_detail, household_row
from nuanxin.households.schemas import HouseholdOut, LocationSuggestionOut
from nuanxin.households.tables import Household, LocationSuggestion
from nuanxin.households.vocabulary import LOCATION_RANK, LocationSource, SuggestionStatus
from nuanxin.identity import CurrentUser, Role, jurisdiction_where
from nuanxin.pagination import Page, Pagination
from nuanxin.regions.services import RegionRecord, get_region_by_id

__all__ = (
    "decide_suggestion",
    "list_suggestions",
    "place_pin",
    "region_point_source",
    "suggest_from_courier",
)


async def region_point_source(region: RegionRecord) -> LocationSource:
    """``township`` for a township with a point of its own (not its county's), else ``county``."""
    if region.level != "township" or region.parent_id is None:
        return LocationSource.county
    parent = await get_region_by_id(region.parent_id)
    if parent is None or (parent.lat, parent.lon) == (region.lat, region.lon):
        return LocationSource.county
    return LocationSource.township


def _staff(actor: CurrentUser) -> None:
    if actor.role not in (Role.staff, Role.admin):
        raise Forbidden("Only civil affairs staff place households")


def _point(row: dict[str, Any]) -> dict[str, Any]:
    return {"lat": row["lat"], "lon": row["lon"], "location_source": row["location_source"]}


async def place_pin(
    *, actor: CurrentUser, household_id: int, lat: float, lon: float
) -> HouseholdOut:
    """Staff place the household on the map: the point becomes this pin."""
    _staff(actor)
    async with atomic():
        row = await household_row(household_id, actor)
        await (
            Household.update(
                {
                    Household.lat: lat,
                    Household.lon: lon,
                    Household.location_source: LocationSource.pin,
                    Household.updated_at: datetime.now(UTC),
                }
            )
            .where(Household.id == household_id)
            .run()
        )
        await record(
            actor=actor,
            action="household.pin",
            entity="household",
            entity_id=household_id,
            before=_point(row),
            after={"lat": lat, "lon": lon, "location_source": LocationSource.pin.value},
            region_code=str(row["region.code"]),
        )
    return await household_detail(household_id, actor)


async def suggest_from_courier(
    *,
    actor: CurrentUser,
    household_id: int,
    visit_id: int,
    lat: float,
    lon: float,
    accuracy_m: float | None,
) -> int | None:
    """Keep the courier's position at the household's first confirmed visit as a suggestion.

    Call it inside the confirmation's transaction, for the household's first confirmed visit
    only. Answers the suggestion's id, or ``None`` when the household has one already (its
    first visit's) — a repeated confirmation adds nothing.
    """
    row = (
        await Household.select(
            Household.lat, Household.lon, Household.location_source, Household.region._.code
        )
        .where(Household.id == household_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("No such household")
    if await LocationSuggestion.exists().where(LocationSuggestion.household == household_id):
        return None
    distance = float(matching.geo.great_circle_km(row["lat"], row["lon"], lat, lon))
    created = (
        await LocationSuggestion.insert(
            LocationSuggestion(
                household=household_id,
                visit_id=visit_id,
                lat=lat,
                lon=lon,
                accuracy_m=accuracy_m,
                distance_km=distance,
                suggested_by=actor.id,
                created_at=datetime.now(UTC),
            )
        )
        .returning(LocationSuggestion.id)
        .run()
    )
    suggestion_id = int(created[0]["id"])
    await record(
        actor=actor,
        action="location.suggest",
        entity="location_suggestion",
        entity_id=suggestion_id,
        after={
            "household_id": household_id,
            "visit_id": visit_id,
            "distance_km": round(distance, 3),
            "accuracy_m": accuracy_m,
        },  # the position itself stays in its row: whereabouts are sensitive (PIPL)
        region_code=str(row["region.code"]),
    )
    return suggestion_id


_SUGGESTION_COLUMNS = (
    *LocationSuggestion._meta.columns,
    LocationSuggestion.household._.reference,
    LocationSuggestion.household._.lat,
    LocationSuggestion.household._.lon,
    LocationSuggestion.household._.location_source,
    LocationSuggestion.household._.region._.code,
    LocationSuggestion.household._.region._.name,
    LocationSuggestion.suggested_by._.username,
)


def _suggestion_out(row: dict[str, Any]) -> LocationSuggestionOut:
    return LocationSuggestionOut(
        id=int(row["id"]),
        household_id=int(row["household"]),
        household_reference=str(row["household.reference"]),
        region_code=str(row["household.region.code"]),
        region_name=str(row["household.region.name"]),
        current_lat=float(row["household.lat"]),
        current_lon=float(row["household.lon"]),
        current_source=str(row["household.location_source"]),
        lat=float(row["lat"]),
        lon=float(row["lon"]),
        accuracy_m=None if row["accuracy_m"] is None else float(row["accuracy_m"]),
        distance_km=float(row["distance_km"]),
        visit_id=int(row["visit_id"]),
        suggested_by=str(row["suggested_by.username"]),
        created_at=row["created_at"],
        status=str(row["status"]),
        decided_at=row["decided_at"],
    )


async def list_suggestions(
    *, actor: CurrentUser, page: Pagination, status: SuggestionStatus | None = None
) -> Page[LocationSuggestionOut]:
    """Couriers' suggested points in the staff member's jurisdiction, the oldest first."""
    _staff(actor)
    query = LocationSuggestion.select(*_SUGGESTION_COLUMNS)
    count = LocationSuggestion.count()
    clauses: list[Any] = []
    where = jurisdiction_where(actor, LocationSuggestion.household._.region._.code)
    if where is not None:
        clauses.append(where)
    if status is not None:
        clauses.append(LocationSuggestion.status == status)
    for clause in clauses:
        query = query.where(clause)
        count = count.where(clause)
    rows = await query.order_by(LocationSuggestion.id).limit(page.limit).offset(page.offset).run()
    return Page(
        items=[_suggestion_out(row) for row in rows],
        total=await count.run(),
        limit=page.limit,
        offset=page.offset,
    )


async def decide_suggestion(
    *, actor: CurrentUser, suggestion_id: int, accept: bool
) -> LocationSuggestionOut:
    """Accept (the point moves, unless a pin is there) or reject a pending suggestion, once."""
    _staff(actor)
    async with atomic():
        row = (
            await LocationSuggestion.select(*_SUGGESTION_COLUMNS)
            .where(LocationSuggestion.id == suggestion_id)
            .first()
            .run()
        )
        if row is None or not actor.covers(str(row["household.region.code"])):
            raise NotFound(
                "No such suggestion in your jurisdiction", message_id="suggestion_not_found"
            )
        status = SuggestionStatus.accepted if accept else SuggestionStatus.rejected
        moment = datetime.now(UTC)
        decided = (
            await LocationSuggestion.update(
                {
                    LocationSuggestion.status: status,
                    LocationSuggestion.decided_by: actor.id,
                    LocationSuggestion.decided_at: moment,
                }
            )
            .where(
                (LocationSuggestion.id == suggestion_id)
                & (LocationSuggestion.status == SuggestionStatus.pending)
            )
            .returning(LocationSuggestion.id)
            .run()
        )
        if not decided:
            raise Conflict("This suggestion was decided already", message_id="already_decided")
        household_id = int(row["household"])
        before = {
            "lat": row["household.lat"],
            "lon": row["household.lon"],
            "location_source": row["household.location_source"],
        }
        current = LocationSource(str(row["household.location_source"]))
        moved = accept and LOCATION_RANK[LocationSource.courier] <= LOCATION_RANK[current]
        if moved:
            await (
                Household.update(
                    {
                        Household.lat: row["lat"],
                        Household.lon: row["lon"],
                        Household.location_source: LocationSource.courier,
                        Household.updated_at: moment,
                    }
                )
                .where(Household.id == household_id)
                .run()
            )
        await record(
            actor=actor,
            action=f"location.{status.value}",
            entity="location_suggestion",
            entity_id=suggestion_id,
            before=before,
            after={
                "household_id": household_id,
                "status": status.value,
                "point_moved": moved,
                "location_source": LocationSource.courier.value if moved else current.value,
            },
            region_code=str(row["household.region.code"]),
        )
        row = (
            await LocationSuggestion.select(*_SUGGESTION_COLUMNS)
            .where(LocationSuggestion.id == suggestion_id)
            .first()
            .run()
        )
    assert row is not None
    return _suggestion_out(row)
