"""Writers of a :class:`~nuanxin.synthetic.model.Dataset`: the engine's instance JSON, CSV, JSONL.

All three stream line by line from the columnar arrays; a need's JSON is formatted once per
distinct (kind, quantity, first weight) and reused, which keeps a million households to seconds.

* :func:`write_instance` -> ``instance.json``, the matching engine's format.
* :func:`write_csv` -> ``households.csv``, ``members.csv``, ``needs.csv``, ``charities.csv``,
  ``warehouses.csv``, ``offers.csv``, ``donors.csv`` (UTF-8, header row; ids as in the instance).
* :func:`write_jsonl` -> ``households.jsonl`` (members and needs nested), ``offers.jsonl``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from nuanxin.synthetic.model import (
    CATEGORIES,
    GIVEN_NAMES,
    KINDS,
    REASONS,
    RELATIONS,
    REQUIRES,
    SURNAMES,
    TAGS,
    UNIT_DECAY,
    Dataset,
)

__all__ = ("FORMATS", "write", "write_csv", "write_instance", "write_jsonl")

_TAG_SETS = {
    (coal, power): [tag for tag, has in zip(TAGS, (coal, power), strict=True) if has]
    for coal in (False, True)
    for power in (False, True)
}


def _need_formatter() -> Callable[[int, int, float], str]:
    cache: dict[tuple[int, int, float], str] = {}

    def need_json(k: int, q: int, w: float) -> str:
        key = (k, q, w)
        found = cache.get(key)
        if found is None:
            weights = [round(float(x), 4) for x in w * UNIT_DECAY[k] ** np.arange(q)]
            if q == 1:
                found = f'{{"kind":"{KINDS[k]}","quantity":1,"weight":{weights[0]}}}'
            else:
                listed = ",".join(map(str, weights))
                found = f'{{"kind":"{KINDS[k]}","quantity":{q},"weights":[{listed}]}}'
            cache[key] = found
        return found

    return need_json


def _household_needs(dataset: Dataset) -> Iterator[str]:
    """The JSON array of each household's needs, in household order."""
    need_json = _need_formatter()
    quantity = dataset.households.need_quantity.tolist()
    weight = dataset.households.need_weight.tolist()
    kinds = range(len(KINDS))
    for q_row, w_row in zip(quantity, weight, strict=True):
        yield "[" + ",".join(need_json(k, q_row[k], w_row[k]) for k in kinds if q_row[k]) + "]"


def write_instance(dataset: Dataset, path: Path) -> None:
    """The engine's instance: ``{"offers": [...], "households": [...]}``, ids as strings."""
    o, h = dataset.offers, dataset.households
    with path.open("w", encoding="utf-8") as out:
        out.write('{"offers":[\n')
        kinds = o.kind.tolist()
        rows = zip(
            kinds,
            o.quantity.tolist(),
            o.lat.tolist(),
            o.lon.tolist(),
            o.radius_km.tolist(),
            strict=True,
        )
        out.write(
            ",\n".join(
                f'{{"id":"o{j}","kind":"{KINDS[k]}","quantity":{q},"lat":{lat},"lon":{lon},'
                f'"radius_km":{r},"requires":{json.dumps(list(REQUIRES[KINDS[k]]))}}}'
                for j, (k, q, lat, lon, r) in enumerate(rows)
            )
        )
        out.write('\n],"households":[\n')
        tags = [json.dumps(_TAG_SETS[key]) for key in ((False, False), (False, True))]
        tags += [json.dumps(_TAG_SETS[key]) for key in ((True, False), (True, True))]
        tag_index = (h.coal_stove.astype(np.int8) * 2 + h.electricity.astype(np.int8)).tolist()
        lines = (
            f'{{"id":"h{i}","lat":{lat},"lon":{lon},"tags":{tags[t]},"needs":{needs}}}'
            for i, (lat, lon, t, needs) in enumerate(
                zip(
                    h.lat.tolist(),
                    h.lon.tolist(),
                    tag_index,
                    _household_needs(dataset),
                    strict=True,
                )
            )
        )
        first = True
        for line in lines:
            out.write(line if first else ",\n" + line)
            first = False
        out.write("\n]}\n")


def _addresses(dataset: Dataset) -> list[str]:
    h, v = dataset.households, dataset.villages
    county_names = [county.full_name for county in dataset.counties]
    village_number = v.number.tolist()
    return [
        f"{county_names[c]}测试{village_number[village]}村{house}号"
        for c, village, house in zip(
            h.county.tolist(), h.village.tolist(), h.house_number.tolist(), strict=True
        )
    ]


def _reasons(bits: int) -> str:
    return ";".join(name for b, name in enumerate(REASONS) if bits >> b & 1)


def write_csv(dataset: Dataset, directory: Path) -> None:
    """One CSV per entity (see the module docstring)."""
    h, m, o, c = dataset.households, dataset.members, dataset.offers, dataset.charities
    codes = [county.code for county in dataset.counties]
    tag_text = {key: ";".join(value) for key, value in _TAG_SETS.items()}
    reason_text = [_reasons(bits) for bits in range(1 << len(REASONS))]
    with _csv(directory / "households.csv") as out:
        out.writerow(
            [
                *("id", "reference", "category", "head_name", "county_code", "address"),
                *("lat", "lon", "size", "lives_alone", "tags", "priority_reasons"),
            ]
        )
        out.writerows(
            [
                f"h{i}",
                f"测试-{i + 1:07d}",
                CATEGORIES[cat],
                f"测试{SURNAMES[sur]}{GIVEN_NAMES[giv]}",
                codes[county],
                address,
                lat,
                lon,
                size,
                int(alone),
                tag_text[(coal, power)],
                reason_text[bits],
            ]
            for i, (cat, sur, giv, county, address, lat, lon, size, alone, coal, power, bits) in (
                enumerate(
                    zip(
                        h.category.tolist(),
                        h.surname.tolist(),
                        h.given_name.tolist(),
                        h.county.tolist(),
                        _addresses(dataset),
                        h.lat.tolist(),
                        h.lon.tolist(),
                        h.size.tolist(),
                        h.lives_alone.tolist(),
                        h.coal_stove.tolist(),
                        h.electricity.tolist(),
                        h.priority_reasons.tolist(),
                        strict=True,
                    )
                )
            )
        )
    with _csv(directory / "members.csv") as out:
        out.writerow(["household_id", "relation", "birth_year", "sex", "disability_level"])
        sexes = ("F", "M")
        out.writerows(
            [f"h{hh}", RELATIONS[rel], year, sexes[sex], dis]
            for hh, rel, year, sex, dis in zip(
                m.household.tolist(),
                m.relation.tolist(),
                m.birth_year.tolist(),
                m.sex.tolist(),
                m.disability_level.tolist(),
                strict=True,
            )
        )
    with _csv(directory / "needs.csv") as out:
        out.writerow(["household_id", "kind", "quantity", "weight", "unit_decay"])
        rows, kinds = np.nonzero(h.need_quantity)
        decay = UNIT_DECAY.tolist()
        out.writerows(
            [f"h{i}", KINDS[k], q, w, decay[k]]
            for i, k, q, w in zip(
                rows.tolist(),
                kinds.tolist(),
                h.need_quantity[rows, kinds].tolist(),
                h.need_weight[rows, kinds].tolist(),
                strict=True,
            )
        )
    with _csv(directory / "charities.csv") as out:
        out.writerow(["id", "name"])
        out.writerows([f"c{k}", dataset.charity_name(k)] for k in range(len(c)))
    with _csv(directory / "warehouses.csv") as out:
        out.writerow(["id", "charity_id", "county_code", "address", "lat", "lon"])
        for w, (charity, county) in enumerate(
            zip(c.warehouse_charity.tolist(), c.warehouse_county.tolist(), strict=True)
        ):
            place = dataset.counties[county]
            address = f"{place.full_name}测试仓库{w + 1}号"
            out.writerow([f"w{w}", f"c{charity}", place.code, address, place.lat, place.lon])
    with _csv(directory / "offers.csv") as out:
        out.writerow(
            [
                *("id", "charity_id", "warehouse_id", "kind", "quantity"),
                *("lat", "lon", "radius_km", "requires"),
            ]
        )
        charity_of = c.warehouse_charity.tolist()
        requires = [";".join(REQUIRES[kind]) for kind in KINDS]
        out.writerows(
            [f"o{j}", f"c{charity_of[w]}", f"w{w}", KINDS[k], q, lat, lon, r, requires[k]]
            for j, (w, k, q, lat, lon, r) in enumerate(
                zip(
                    o.warehouse.tolist(),
                    o.kind.tolist(),
                    o.quantity.tolist(),
                    o.lat.tolist(),
                    o.lon.tolist(),
                    o.radius_km.tolist(),
                    strict=True,
                )
            )
        )
    with _csv(directory / "donors.csv") as out:
        out.writerow(["id", "name", "email", "amount_cny"])
        out.writerows(
            [f"d{d}", dataset.donor_name(d), f"donor{d + 1}@example.org", amount]
            for d, amount in enumerate(dataset.donors.amount_cny.tolist())
        )


@contextmanager
def _csv(path: Path) -> Iterator[Any]:
    with path.open("w", encoding="utf-8", newline="") as handle:
        yield csv.writer(handle, lineterminator="\n")


def write_jsonl(dataset: Dataset, directory: Path) -> None:
    """``households.jsonl`` with members and needs nested, and ``offers.jsonl``.

    Formatted by hand for speed: every string written is built here from fixed vocabularies and
    digits (names and addresses hold no quote or backslash), so it is valid JSON as it stands.
    """
    h, m = dataset.households, dataset.members
    member_json = [
        f'{{"relation":"{RELATIONS[r]}","birth_year":{y},"sex":"{"FM"[s]}","disability_level":{d}}}'
        for r, y, s, d in zip(
            m.relation.tolist(),
            m.birth_year.tolist(),
            m.sex.tolist(),
            m.disability_level.tolist(),
            strict=True,
        )
    ]
    starts = h.member_start.tolist()
    codes = [county.code for county in dataset.counties]
    tags = {key: json.dumps(value) for key, value in _TAG_SETS.items()}
    with (directory / "households.jsonl").open("w", encoding="utf-8") as out:
        for i, (cat, sur, giv, county, address, lat, lon, alone, coal, power, needs) in enumerate(
            zip(
                h.category.tolist(),
                h.surname.tolist(),
                h.given_name.tolist(),
                h.county.tolist(),
                _addresses(dataset),
                h.lat.tolist(),
                h.lon.tolist(),
                h.lives_alone.tolist(),
                h.coal_stove.tolist(),
                h.electricity.tolist(),
                _household_needs(dataset),
                strict=True,
            )
        ):
            members = ",".join(member_json[starts[i] : starts[i + 1]])
            out.write(
                f'{{"id":"h{i}","category":"{CATEGORIES[cat]}",'
                f'"head_name":"测试{SURNAMES[sur]}{GIVEN_NAMES[giv]}",'
                f'"county_code":"{codes[county]}","address":"{address}","lat":{lat},"lon":{lon},'
                f'"lives_alone":{"true" if alone else "false"},"tags":{tags[(coal, power)]},'
                f'"members":[{members}],"needs":{needs}}}\n'
            )
    with (directory / "offers.jsonl").open("w", encoding="utf-8") as out:
        for offer in dataset.instance_offers():
            out.write(json.dumps(offer, ensure_ascii=False) + "\n")


FORMATS: dict[str, Callable[[Dataset, Path], None]] = {
    "instance": lambda dataset, directory: write_instance(dataset, directory / "instance.json"),
    "csv": write_csv,
    "jsonl": write_jsonl,
}


def write(
    dataset: Dataset, directory: Path, formats: tuple[str, ...] = ("instance", "csv")
) -> None:
    """Write the dataset to ``directory`` (created if missing) in each of ``formats``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in formats:
        FORMATS[name](dataset, directory)
