"""The seeded generator: deterministic, in national proportions, needs following the rules."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from nuanxin.regions.geocoder import OfflineGeocoder
from nuanxin.synthetic import (
    CATEGORIES,
    CATEGORY_SHARES,
    KINDS,
    NORTHERN_PROVINCES,
    REQUIRES,
    Dataset,
    generate,
    write,
)
from nuanxin.synthetic.__main__ import main


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return generate(households=20_000, offers=1_000, seed=11)


def _same(a: Dataset, b: Dataset) -> bool:
    pairs = [
        (a.households, b.households),
        (a.members, b.members),
        (a.villages, b.villages),
        (a.offers, b.offers),
        (a.charities, b.charities),
        (a.donors, b.donors),
    ]
    for left, right in pairs:
        for field in dataclasses.fields(left):  # type: ignore[arg-type]
            name = field.name
            x, y = getattr(left, name), getattr(right, name)
            if isinstance(x, np.ndarray):
                if not np.array_equal(x, y):
                    return False
            elif x != y:
                return False
    return a.counties == b.counties


def test_the_same_seed_gives_the_same_data(dataset: Dataset) -> None:
    again = generate(households=20_000, offers=1_000, seed=11)
    assert _same(dataset, again)
    assert again.to_instance() == dataset.to_instance()
    from_generator = generate(households=300, offers=20, seed=np.random.default_rng(5))
    assert _same(from_generator, generate(households=300, offers=20, seed=np.random.default_rng(5)))


def test_another_seed_gives_other_data(dataset: Dataset) -> None:
    other = generate(households=20_000, offers=1_000, seed=12)
    assert not _same(dataset, other)


def test_categories_follow_the_national_proportions_within_2_points(dataset: Dataset) -> None:
    shares = np.bincount(dataset.households.category, minlength=len(CATEGORIES)) / 20_000
    people = np.array([40.0, 4.7, 6.0])
    assert CATEGORY_SHARES[:3] / CATEGORY_SHARES[:3].sum() == pytest.approx(people / people.sum())
    assert 0.0 < CATEGORY_SHARES[3] < 0.1  # temporary assistance: a small share
    np.testing.assert_allclose(shares, CATEGORY_SHARES, atol=0.02)


def test_households_live_in_northern_counties_and_share_village_points(dataset: Dataset) -> None:
    prefixes = {code[:2] for code in NORTHERN_PROVINCES}
    assert all(county.code[:2] in prefixes for county in dataset.counties)
    assert all(county.level == "county" for county in dataset.counties)
    h = dataset.households
    points = {(lat, lon) for lat, lon in zip(h.lat.tolist(), h.lon.tolist(), strict=True)}
    assert len(points) < len(h) / 3  # several households share a point
    geocoder = OfflineGeocoder()
    for i in range(0, len(h), 997):  # each lies within reach of its county seat
        seat = dataset.counties[h.county[i]]
        assert abs(h.lat[i] - seat.lat) < 0.4
        assert abs(h.lon[i] - seat.lon) < 0.6
        found = geocoder.geocode(dataset.address(i))
        assert not isinstance(found, list)
        assert found.raw["code"] == seat.code  # synthetic addresses geocode to their county


def test_names_and_addresses_are_clearly_synthetic(dataset: Dataset) -> None:
    for i in range(0, len(dataset.households), 1000):
        assert dataset.head_name(i).startswith("测试")
        assert "测试" in dataset.address(i)
    assert dataset.charity_name(0).startswith("测试")
    assert dataset.donor_name(0).startswith("测试")


def test_needs_respect_the_heating_situation(dataset: Dataset) -> None:
    h = dataset.households
    q = h.need_quantity
    assert (q[~h.coal_stove, KINDS.index("coal")] == 0).all()
    assert (q[~h.electricity, KINDS.index("electric_blanket")] == 0).all()
    assert q[h.coal_stove, KINDS.index("coal")].min() >= 4
    assert q[:, KINDS.index("coal")].max() <= 30
    assert REQUIRES["coal"] == ("coal_stove",)
    assert REQUIRES["electric_blanket"] == ("electricity",)


def test_needs_grow_with_household_size_and_cold(dataset: Dataset) -> None:
    h = dataset.households
    total = h.need_quantity.sum(axis=1)
    assert total[h.size >= 4].mean() > total[h.size == 1].mean()
    lat = np.array([c.lat for c in dataset.counties])[h.county]
    coal = h.need_quantity[:, 0]
    heated = h.coal_stove
    assert coal[heated & (lat > 45)].mean() > coal[heated & (lat < 40)].mean()
    people = np.diff(h.member_start)
    assert (people == h.size).all()
    assert (h.lives_alone == (h.size == 1)).all()


def test_weights_are_non_increasing_and_higher_for_the_vulnerable(dataset: Dataset) -> None:
    h = dataset.households
    for i in range(0, len(h), 500):
        for k in np.flatnonzero(h.need_quantity[i]):
            weights = dataset.weights(i, int(k))
            assert all(a >= b for a, b in itertools.pairwise(weights))
            assert weights[-1] > 0
    base = h.need_weight[:, KINDS.index("quilt")]
    extremely_poor = h.category == CATEGORIES.index("extremely_poor")
    assert base[extremely_poor].mean() > base[~extremely_poor].mean()
    assert base[h.lives_alone].mean() > base[~h.lives_alone].mean()


def test_offers_cover_the_six_kinds_within_20_to_80_km(dataset: Dataset) -> None:
    o = dataset.offers
    assert set(np.unique(o.kind).tolist()) == set(range(len(KINDS)))
    assert o.radius_km.min() >= 20.0
    assert o.radius_km.max() <= 80.0
    assert (o.quantity >= 1).all()
    seats = {(c.lat, c.lon) for c in dataset.counties}
    assert all((lat, lon) in seats for lat, lon in zip(o.lat.tolist(), o.lon.tolist(), strict=True))


def test_the_instance_has_the_engines_format() -> None:
    small = generate(households=300, offers=20, seed=3)
    instance = small.to_instance()
    assert set(instance) == {"offers", "households"}
    offer = instance["offers"][0]
    assert set(offer) == {"id", "kind", "quantity", "lat", "lon", "radius_km", "requires"}
    assert isinstance(offer["id"], str)
    for household in instance["households"]:
        assert set(household) == {"id", "lat", "lon", "tags", "needs"}
        for need in household["needs"]:
            weights = need.get("weights", [need.get("weight")])
            assert len(weights) == need["quantity"]


def test_the_written_instance_equals_to_instance(tmp_path: Path) -> None:
    small = generate(households=500, offers=30, seed=4)
    write(small, tmp_path, ("instance", "csv", "jsonl"))
    assert json.loads((tmp_path / "instance.json").read_text(encoding="utf-8")) == (
        small.to_instance()
    )
    lines = (tmp_path / "households.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 500
    first = json.loads(lines[0])
    assert first["head_name"].startswith("测试")
    assert len(first["members"]) == small.households.size[0]
    header = (tmp_path / "households.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,reference,category,head_name,county_code,address")
    for name in ("members", "needs", "charities", "warehouses", "offers", "donors"):
        assert (tmp_path / f"{name}.csv").stat().st_size > 0


def test_the_command_writes_a_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--households", "200", "--offers", "10", "--seed", "2", "--out", str(tmp_path)]
    assert main([*argv, "--province", "230000"]) == 0
    assert "200 households" in capsys.readouterr().out
    instance = json.loads((tmp_path / "instance.json").read_text(encoding="utf-8"))
    assert len(instance["households"]) == 200
    assert len(instance["offers"]) == 10
