"""Load a generated :class:`~nuanxin.synthetic.model.Dataset` into the database.

For benchmarks, load tests and large demos: charities (verified) with their warehouses and
offers, and verified households with members and needs, written in batches. The regions
must be loaded first (``python -m nuanxin load-regions``). The generator's kinds map onto the
catalogue (``coat_adult`` -> ``coat_adult_l``, ``coat_child`` -> ``coat_child_130``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nuanxin.accounts.bulk import insert_organizations
from nuanxin.db import atomic
from nuanxin.households.bulk import insert_households, insert_members, insert_needs
from nuanxin.identity import digest
from nuanxin.offers.bulk import insert_offers
from nuanxin.offers.services import list_items
from nuanxin.regions.services import region_ids
from nuanxin.synthetic.model import CATEGORIES, KINDS, RELATIONS, Dataset
from nuanxin.warehouses.bulk import insert_warehouses

__all__ = ("ITEM_OF_KIND", "Loaded", "load_dataset")

ITEM_OF_KIND = {
    "coal": "coal",
    "coat_adult": "coat_adult_l",
    "coat_child": "coat_child_130",
    "quilt": "quilt",
    "electric_blanket": "electric_blanket",
    "stove": "stove",
}
LABEL = "synthetic load"


@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded:
    charities: int
    warehouses: int
    offers: int
    households: int
    members: int
    needs: int


async def load_dataset(dataset: Dataset, *, prefix: str = "S") -> Loaded:
    """Write the dataset; ``prefix`` keeps references and codes unique between loads."""
    now = datetime.now(UTC)
    items = {item.code: item.id for item in await list_items()}
    kind_items = [items[ITEM_OF_KIND[kind]] for kind in KINDS]
    codes = [county.code for county in dataset.counties]
    regions = await region_ids(codes)
    missing = set(codes) - set(regions)
    if missing:
        raise RuntimeError(f"regions {sorted(missing)[:5]} are not loaded: run load-regions first")
    county_ids = [regions[code] for code in codes]
    c, h, m, o = dataset.charities, dataset.households, dataset.members, dataset.offers
    async with atomic():
        charity_county = [0] * c.count
        for w in range(len(c.warehouse_charity)):
            charity_county[int(c.warehouse_charity[w])] = int(c.warehouse_county[w])
        org_ids = await insert_organizations(
            [
                {
                    "name": f"{prefix}{dataset.charity_name(i)}",
                    "credit_code": f"91{prefix}{i:015d}"[-18:].rjust(18, "0"),
                    "status": "verified",
                    "region": county_ids[charity_county[i]],
                    "contact_name": "测试联系人",
                    "contact_phone": "13800000000",
                    "created_at": now,
                    "verified_at": now,
                }
                for i in range(c.count)
            ],
            label=LABEL,
        )
        warehouse_ids = await insert_warehouses(
            [
                {
                    "organization": org_ids[int(c.warehouse_charity[w])],
                    "name": f"测试仓库{w + 1}",
                    "address": f"{dataset.counties[int(c.warehouse_county[w])].full_name}测试仓库",
                    "region": county_ids[int(c.warehouse_county[w])],
                    "lat": float(c.warehouse_lat[w]),
                    "lon": float(c.warehouse_lon[w]),
                }
                for w in range(len(c.warehouse_charity))
            ],
            label=LABEL,
        )
        today = now.date()
        offer_rows = [
            {
                "organization": org_ids[int(c.warehouse_charity[int(o.warehouse[i])])],
                "warehouse": warehouse_ids[int(o.warehouse[i])],
                "item": kind_items[int(o.kind[i])],
                "quantity": int(o.quantity[i]),
                "lat": float(o.lat[i]),
                "lon": float(o.lon[i]),
                "radius_km": float(o.radius_km[i]),
                "available_from": today,
                "available_until": today + timedelta(days=120),
                "created_at": now,
                "updated_at": now,
            }
            for i in range(len(o))
        ]
        await insert_offers(offer_rows, label=LABEL)
        expires = now + timedelta(days=365)
        # rows as generators: the bulk doors take them a chunk at a time (a province is 1M)
        household_ids = await insert_households(
            (
                {
                    "reference": f"{prefix}{i:09d}",
                    "category": CATEGORIES[int(h.category[i])],
                    "head_name": dataset.head_name(i),
                    "id_hash": digest(f"{prefix}-synthetic-{i}"),
                    "id_last4": f"{i % 10000:04d}",
                    "phone": f"199{i % 100_000_000:08d}",
                    "registered_address": dataset.address(i),
                    "current_address": dataset.address(i),
                    "region": county_ids[int(h.county[i])],
                    "lat": float(h.lat[i]),
                    "lon": float(h.lon[i]),
                    "tags": dataset.tags(i),
                    "lives_alone": bool(h.lives_alone[i]),
                    "status": "verified",
                    "verified_at": now,
                    "verification_expires_at": expires,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(len(h))
            ),
            label=LABEL,
        )
        # numpy columns as lists: a list item is read many times faster than an array's
        starts, relation, born = h.member_start.tolist(), m.relation.tolist(), m.birth_year.tolist()
        sex, disability = m.sex.tolist(), m.disability_level.tolist()
        members = await insert_members(
            {
                "household": household_ids[i],
                "relation": RELATIONS[relation[row]],
                "birth_year": born[row],
                "sex": "F" if sex[row] == 0 else "M",
                "disability_level": disability[row],
            }
            for i in range(len(household_ids))
            for row in range(starts[i], starts[i + 1])
        )
        quantities, weights = h.need_quantity.tolist(), h.need_weight.tolist()
        needs = await insert_needs(
            (
                {
                    "household": household_id,
                    "item": kind_items[k],
                    "quantity": quantities[i][k],
                    "weight": weights[i][k],
                    "rule": "合成数据 synthetic",
                    "updated_at": now,
                }
                for i, household_id in enumerate(household_ids)
                for k in range(len(KINDS))
                if quantities[i][k] > 0
            ),
            label=LABEL,
        )
    return Loaded(
        charities=c.count,
        warehouses=len(warehouse_ids),
        offers=len(offer_rows),
        households=len(household_ids),
        members=len(members),
        needs=len(needs),
    )
