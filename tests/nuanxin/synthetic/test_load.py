"""A generated dataset reaches the database through the areas' bulk doors."""

from __future__ import annotations

import pytest

from nuanxin.accounts.tables import Organization
from nuanxin.audit.tables import AuditEntry
from nuanxin.households.tables import Household, Need
from nuanxin.offers.bulk import insert_offers
from nuanxin.offers.tables import Offer
from nuanxin.synthetic import generate
from nuanxin.synthetic.load import load_dataset
from tests.nuanxin.conftest import make_region


async def test_a_loaded_dataset_has_every_row_its_stock_all_available_and_a_trail(
    db: None,
) -> None:
    dataset = generate(households=40, offers=12, seed=5, provinces=("230000",))
    for county in dataset.counties:
        await make_region(county.code)

    loaded = await load_dataset(dataset)

    assert loaded.households == 40 == await Household.count().run()
    assert loaded.offers == 12 == await Offer.count().run()
    assert loaded.charities == await Organization.count().run()
    assert loaded.needs == await Need.count().run() > 0
    offers = await Offer.select(Offer.quantity, Offer.available, Offer.reserved).run()
    assert all(o["available"] == o["quantity"] and o["reserved"] == 0 for o in offers)
    trail = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.after).output(load_json=True).run()
    )
    counts = {str(e["action"]): e["after"]["count"] for e in trail}
    assert counts["household.bulk_create"] == 40
    assert counts["offer.bulk_create"] == 12


async def test_a_bulk_offer_with_negative_stock_or_an_unknown_column_writes_nothing(
    db: None,
) -> None:
    with pytest.raises(ValueError, match="negative"):
        await insert_offers([{"quantity": -1}], label="test")
    with pytest.raises(ValueError, match="no column 'colour'"):
        await insert_offers([{"quantity": 1, "colour": "red"}], label="test")
    assert await Offer.count().run() == 0
