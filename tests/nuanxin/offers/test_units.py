"""Units: coal is given in 25 kg bags, kilograms or tonnes and counted, exactly, in bags.

The conversions are exact and round-trip; what is not a whole number of bags, or not a unit
of the item, is refused with a 400 naming its field; a tonne offer covers bag needs exactly in
a round; pages say coal's quantities in bags with their weight, in both languages.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nuanxin.errors import Invalid
from nuanxin.households.tables import Household, Need
from nuanxin.i18n import catalogue
from nuanxin.labels import AMOUNTS, COUNTED_IN, count_unit, quantity_text, weight_text
from nuanxin.offers import services as offers
from nuanxin.offers.tables import Item
from nuanxin.units import MAX_COUNT, Unit, from_count, to_count, units_for
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.helpers import assert_error
from tests.nuanxin.loop_world import COUNTY, Loop, add_household, build_loop, stock
from tests.nuanxin.offers.helpers import offer_body

BAG = Unit.bag_25kg
NBSP = "\u00a0"

# -- the conversions, pure ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "unit", "bags"),
    [
        (Decimal("1.5"), Unit.t, 60),
        (1, Unit.t, 40),
        (Decimal("0.025"), Unit.t, 1),
        (Decimal("1.525"), Unit.t, 61),
        (75, Unit.kg, 3),
        (Decimal("1E+3"), Unit.kg, 40),
        (Decimal("1.500000000000000000000000"), Unit.t, 60),
        (3, BAG, 3),
        (3, None, 3),
    ],
)
def test_coal_given_in_any_unit_is_an_exact_number_of_bags(
    amount: Decimal | int, unit: Unit | None, bags: int
) -> None:
    assert to_count(amount, unit, counting=BAG) == bags


@given(bags=st.integers(min_value=1, max_value=MAX_COUNT), unit=st.sampled_from(units_for(BAG)))
def test_a_quantity_in_bags_said_in_another_unit_converts_back_to_the_same_bags(
    bags: int, unit: Unit
) -> None:
    said = from_count(bags, BAG, unit)
    assert to_count(said, unit, counting=BAG) == bags
    assert to_count(Decimal(f"{said:f}"), unit.value, counting=BAG) == bags  # as typed
    assert from_count(bags, BAG, Unit.kg) == 25 * bags


@pytest.mark.parametrize(
    ("amount", "unit", "message_id"),
    [
        (Decimal("1.01"), Unit.t, "bags_not_whole"),  # 40.4 bags
        (30, Unit.kg, "bags_not_whole"),
        (Decimal("0.5"), BAG, "bags_not_whole"),
        (Decimal("40.00000000000000000000000000001"), BAG, "bags_not_whole"),
        (Decimal("1E-999999999"), Unit.t, "bags_not_whole"),
        (0, Unit.t, "quantity_out_of_range"),
        (-1, Unit.kg, "quantity_out_of_range"),
        (Decimal("NaN"), Unit.t, "quantity_out_of_range"),
        (Decimal("Infinity"), Unit.t, "quantity_out_of_range"),
        (Decimal("1E+999999999"), Unit.kg, "quantity_out_of_range"),
        (25_001, Unit.t, "quantity_out_of_range"),  # 1,000,040 bags
    ],
)
def test_what_is_not_a_whole_number_of_bags_in_range_is_refused_naming_the_quantity(
    amount: Decimal | int, unit: Unit, message_id: str
) -> None:
    started = time.perf_counter()
    with pytest.raises(Invalid) as refused:
        to_count(amount, unit, counting=BAG)
    assert time.perf_counter() - started < 0.5, "hostile exponents are never expanded"
    assert (refused.value.field, refused.value.message_id) == ("quantity", message_id)


def test_a_piece_is_never_a_fraction_and_an_item_takes_only_units_of_its_measure() -> None:
    assert to_count(2, Unit.piece, counting=Unit.piece) == 2
    with pytest.raises(Invalid) as half:
        to_count(Decimal("1.5"), None, counting=Unit.piece)
    assert half.value.message_id == "quantity_not_whole"
    for unit, counting, message_id in (
        ("kg", Unit.piece, "unit_not_for_item"),
        ("piece", BAG, "unit_not_for_item"),
        ("lb", BAG, "unknown_unit"),
        ("斤", Unit.piece, "unknown_unit"),
    ):
        with pytest.raises(Invalid) as refused:
            to_count(1, unit, counting=counting, unit_field="unit")
        assert (refused.value.field, refused.value.message_id) == ("unit", message_id)


# -- saying quantities --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "code", "chinese", "english"),
    [
        (3, "coal", "3 袋（75 公斤）", "3 bags (75 kg)"),
        (1, "coal", "1 袋（25 公斤）", "1 bag (25 kg)"),
        (60, "coal", "1.5 吨（60 袋）", "1.5 t (60 bags)"),
        (1234, "coal", "30.85 吨（1,234 袋）", "30.85 t (1,234 bags)"),
        (2, "coat_adult_l", "2 件", "2 pieces"),
        (1, "quilt", "1 床", "1 quilt"),
        (4, "electric_blanket", "4 条", "4 blankets"),
        (1, "stove", "1 台", "1 stove"),
        (2, "co_alarm", "2 个", "2 alarms"),
        (0, "coal", "0", "0"),
    ],
)
def test_a_quantity_reads_with_its_unit_in_both_languages_and_never_splits(
    count: int, code: str, chinese: str, english: str
) -> None:
    zh, en = catalogue("zh-CN").gettext, catalogue("en").gettext
    assert quantity_text(count, code, "zh-CN", zh) == chinese.replace(" ", NBSP)
    assert quantity_text(count, code, "en", en) == english.replace(" ", NBSP)


def test_a_slip_line_sets_the_bags_apart_from_their_weight() -> None:
    zh, en = catalogue("zh-CN").gettext, catalogue("en").gettext
    assert (count_unit(3, "coal", zh), weight_text(3, "coal", "zh-CN", zh)) == (
        "袋",
        f"75{NBSP}公斤",
    )
    assert (count_unit(1, "coal", en), weight_text(60, "coal", "en", en)) == ("bag", f"1.5{NBSP}t")
    assert (count_unit(2, "quilt", zh), weight_text(2, "quilt", "zh-CN", zh)) == ("床", "")


@pytest.mark.parametrize(
    ("count", "code", "english"),
    [
        (2, "quilt", "quilts"),
        (1, "quilt", "quilt"),
        (3, "electric_blanket", "blankets"),
        (1, "stove", "stove"),
        (2, "co_alarm", "alarms"),
        (2, "coat_adult_l", "pieces"),
    ],
)
def test_a_slip_line_counts_pieces_in_english_words_that_agree_with_the_number(
    count: int, code: str, english: str
) -> None:
    """ "2 quilts", never "2 bed quilt": the word after a number agrees with it."""
    assert count_unit(count, code, catalogue("en").gettext) == english


async def test_the_catalogue_says_each_items_counting_unit_as_the_pages_do(db: None) -> None:
    items = await offers.list_items()
    assert items, "the catalogue is seeded by a migration"
    for item in items:
        assert item.kind in AMOUNTS, f"say how a quantity of {item.kind} reads (labels.AMOUNTS)"
        assert item.unit is COUNTED_IN.get(item.kind, Unit.piece), item.code
        assert item.units == list(units_for(item.unit))
    coal = next(item for item in items if item.code == "coal")
    assert (coal.unit, coal.units) == (BAG, [BAG, Unit.kg, Unit.t])


# -- the API ------------------------------------------------------------------------------


async def _coal_offer(
    client: httpx.AsyncClient, loop: Loop, quantity: Any, unit: str | None
) -> httpx.Response:
    body = offer_body(loop.warehouse_id, item_code="coal", quantity=quantity)
    if unit is not None:
        body["unit"] = unit
    return await client.post("/api/offers", json=body, headers=loop.auth("charity"))


async def test_a_charity_offers_coal_by_the_tonne_and_it_is_counted_in_bags(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    posted = await _coal_offer(client, loop, 1.5, "t")
    assert posted.status_code == 201, posted.text
    offer = posted.json()
    assert (offer["quantity"], offer["available"], offer["unit"]) == (60, 60, "bag_25kg")
    as_text = await _coal_offer(client, loop, "2.25", "t")  # a decimal string is exact too
    assert as_text.status_code == 201, as_text.text
    assert as_text.json()["quantity"] == 90

    raised = await client.patch(
        f"/api/offers/{offer['id']}",
        json={"quantity": 2000, "unit": "kg"},
        headers=loop.auth("charity"),
    )
    assert raised.status_code == 200, raised.text
    assert raised.json()["quantity"] == 80
    taken = await client.post(
        f"/api/offers/{offer['id']}/withdraw",
        json={"reason": "damp", "quantity": 0.5, "unit": "t"},
        headers=loop.auth("charity"),
    )
    assert taken.status_code == 200, taken.text
    assert (taken.json()["available"], taken.json()["withdrawn"]) == (60, 20)


async def test_a_quantity_that_is_not_whole_bags_or_not_a_unit_is_refused_naming_its_field(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    for quantity, unit, status, field in (
        (1.01, "t", 400, "quantity"),  # 40.4 bags
        (30, "kg", 400, "quantity"),
        (0, "t", 400, "quantity"),
        ("1e-999999999", "t", 400, "quantity"),
        ("lots", "t", 400, "quantity"),
        (3, "lb", 400, "unit"),
        (3, "piece", 400, "unit"),  # coal is not counted in pieces
    ):
        answer = await _coal_offer(client, loop, quantity, unit)
        assert answer.status_code == status, (quantity, unit, answer.text)
        assert answer.json()["field"] == field, (quantity, unit, answer.text)
    quilts = offer_body(loop.warehouse_id, item_code="quilt", quantity=2, unit="kg")
    answer = await client.post("/api/offers", json=quilts, headers=loop.auth("charity"))
    assert_error(answer, 400, "bad_request")
    assert answer.json()["field"] == "unit"
    listed = await client.get("/api/offers", headers=loop.auth("charity"))
    assert listed.json()["total"] == 0


async def _coal_household(loop: Loop, reference: str, bags: int, north: float) -> tuple[int, int]:
    household = await add_household(loop, reference, (COUNTY[0] + north, COUNTY[1]), quilts=0)
    await Household.update({Household.tags: ["coal_stove"]}).where(Household.id == household).run()
    coal = await Item.select(Item.id).where(Item.code == "coal").first().run()
    assert coal is not None
    rows = (
        await Need.insert(
            Need(
                household=household,
                item=int(coal["id"]),
                quantity=bags,
                weight=2.0,
                rule="test",
                updated_at=datetime.now(UTC),
            )
        )
        .returning(Need.id)
        .run()
    )
    return household, int(rows[0]["id"])


async def test_a_tonne_of_coal_covers_bag_needs_exactly_in_a_round(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    posted = await _coal_offer(client, loop, 1, "t")
    assert posted.status_code == 201, posted.text
    offer_id = int(posted.json()["id"])
    first, first_need = await _coal_household(loop, "HT1", 16, 0.01)
    second, second_need = await _coal_household(loop, "HT2", 24, 0.02)

    started = await client.post(
        "/api/rounds", json={"item_codes": ["coal"]}, headers=loop.auth("staff")
    )
    assert started.status_code == 202, started.text
    assert await run_jobs() == 1
    round_id = started.json()["id"]
    listed = await client.get(f"/api/rounds/{round_id}/proposals", headers=loop.auth("staff"))
    assert sorted((p["household_id"], p["quantity"]) for p in listed.json()["items"]) == [
        (first, 16),
        (second, 24),
    ]
    approved = await client.post(
        f"/api/rounds/{round_id}/approve", json={"all": True}, headers=loop.auth("staff")
    )
    assert approved.status_code == 200, approved.text
    assert await stock(offer_id) == {"available": 0, "reserved": 40, "delivered": 0}
    for need_id, bags in ((first_need, 16), (second_need, 24)):
        row = await Need.select(Need.allocated).where(Need.id == need_id).first().run()
        assert row is not None and row["allocated"] == bags

    review = await client.get(
        f"/staff/rounds/{round_id}", params={"lang": "zh-CN"}, headers=loop.auth("staff")
    )
    assert review.status_code == 200, review.text
    assert f"24{NBSP}袋（600{NBSP}公斤）" in review.text
    courier = await client.get("/courier", params={"lang": "zh-CN"}, headers=loop.auth("courier"))
    assert f"16{NBSP}袋（400{NBSP}公斤）" in courier.text
    assert "25 公斤袋" not in courier.text
    english = await client.get("/courier", params={"lang": "en"}, headers=loop.auth("courier"))
    assert f"24{NBSP}bags{NBSP}(600{NBSP}kg)" in english.text


async def test_staff_set_a_coal_need_in_kilograms_counted_in_bags(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household, _ = await _coal_household(loop, "HK1", 8, 0.01)
    path = f"/api/households/{household}/needs"
    body = {"item_code": "coal", "quantity": 300, "unit": "kg", "reason": "a cold house"}
    set_ = await client.post(path, json=body, headers=loop.auth("staff"))
    assert set_.status_code == 200, set_.text
    assert (set_.json()["quantity"], set_.json()["unit"]) == (12, "bag_25kg")
    for changes, field in (
        ({"quantity": 310}, "quantity"),
        ({"quantity": 26, "unit": "t"}, "quantity"),  # 1,040 bags: above a need's 1,000
        ({"unit": "litre"}, "unit"),
    ):
        refused = await client.post(path, json={**body, **changes}, headers=loop.auth("staff"))
        assert refused.status_code == 400, (changes, refused.text)
        assert refused.json()["field"] == field
    needs = (await client.get(path, headers=loop.auth("staff"))).json()
    assert [(n["item_code"], n["quantity"]) for n in needs if n["item_code"] == "coal"] == [
        ("coal", 12)
    ]


async def test_the_offer_form_takes_tonnes_and_keeps_what_was_typed_on_error(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    form = {
        "warehouse_id": str(loop.warehouse_id),
        "item_code": "coal",
        "quantity": "1.01",
        "unit": "t",
        "radius_km": "30",
        "available_from": datetime.now(UTC).date().isoformat(),
        "available_until": datetime.now(UTC).date().isoformat(),
        "note": "",
    }
    refused = await client.post(
        "/charity/offers/new", data=form, params={"lang": "zh-CN"}, headers=loop.auth("charity")
    )
    assert refused.status_code == 400, refused.text
    assert "取暖煤按整袋计数" in refused.text
    assert 'value="1.01"' in refused.text and '<option value="t" selected>' in refused.text
    posted = await client.post(
        "/charity/offers/new", data={**form, "quantity": "1.5"}, headers=loop.auth("charity")
    )
    assert posted.status_code in (200, 303), posted.text
    listed = (await client.get("/api/offers", headers=loop.auth("charity"))).json()["items"]
    assert [(o["item_code"], o["quantity"]) for o in listed] == [("coal", 60)]


async def test_the_openapi_document_describes_the_unit_of_a_quantity(
    client: httpx.AsyncClient, db: None
) -> None:
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    assert set(schemas["Unit"]["enum"]) == {"bag_25kg", "kg", "t", "piece"}
    for name in ("OfferCreate", "OfferUpdate", "OfferWithdraw", "NeedOverride"):
        properties = schemas[name]["properties"]
        unit = properties["unit"]
        assert {"$ref": "#/components/schemas/Unit"} in unit["oneOf"], name
        assert "`kg`" in unit["description"] and "`t`" in unit["description"], name
        quantity = properties["quantity"]
        assert "number" in quantity["type"] and "oneOf" not in quantity, name
        assert "25 kg bags" in quantity["description"], name
    for name in ("Offer", "Item", "NeedOut"):
        assert "unit" in schemas[name]["properties"], name


async def test_the_need_page_takes_kilograms_and_shows_bags_with_their_weight(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    household, _ = await _coal_household(loop, "HK2", 8, 0.01)
    path = f"/staff/households/{household}/needs"
    form = {"item_code": "coal", "quantity": "310", "unit": "kg", "reason": "a cold house"}
    refused = await client.post(
        path, data=form, params={"lang": "zh-CN"}, headers=loop.auth("staff")
    )
    assert refused.status_code == 400, refused.text
    assert "取暖煤按整袋计数" in refused.text and 'value="310"' in refused.text
    saved = await client.post(
        path, data={**form, "quantity": "300"}, params={"lang": "zh-CN"}, headers=loop.auth("staff")
    )
    assert saved.status_code in (200, 303), saved.text
    shown = await client.get(path, params={"lang": "zh-CN"}, headers=loop.auth("staff"))
    assert f"12{NBSP}袋（300{NBSP}公斤）" in shown.text
    english = await client.get(path, params={"lang": "en"}, headers=loop.auth("staff"))
    assert f"12{NBSP}bags{NBSP}(300{NBSP}kg)" in english.text


async def test_the_withdraw_form_takes_tonnes_of_coal_and_says_what_was_taken_back(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    posted = await _coal_offer(client, loop, 2, "t")
    offer_id = posted.json()["id"]
    path = f"/charity/offers/{offer_id}/withdraw"
    form = {"reason": "damp", "quantity": "0.51", "unit": "t"}
    refused = await client.post(path, data=form, headers=loop.auth("charity"))
    assert refused.status_code == 400, refused.text
    assert 'value="0.51"' in refused.text and '<option value="t" selected>' in refused.text
    taken = await client.post(
        path,
        data={**form, "quantity": "0.5"},
        params={"lang": "zh-CN"},
        headers=loop.auth("charity"),
    )
    assert taken.status_code in (200, 303), taken.text
    assert await stock(offer_id) == {"available": 60, "reserved": 0, "delivered": 0}
    page = await client.get(f"/charity/offers/{offer_id}", headers=loop.auth("charity"))
    assert f"1.5{NBSP}吨（60{NBSP}袋）" in page.text
