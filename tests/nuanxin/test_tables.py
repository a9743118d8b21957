"""Every table round-trips a row, and the database refuses what breaks its rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from piccolo.table import Table

from nuanxin.accounts.tables import ApiToken, Organization, User
from nuanxin.audit.tables import AuditEntry
from nuanxin.db import atomic
from nuanxin.deliveries.tables import (
    Allocation,
    ConfirmationKey,
    Delivery,
    DeliveryCase,
    OfflineReview,
    Visit,
)
from nuanxin.donations.tables import Campaign, Donation, Payment, Purchase, WebhookEvent
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.households.tables import Escalation, Household, Member, Need
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import GeocodeCache, Region
from nuanxin.rounds.tables import MatchingRound, Proposal
from nuanxin.safety.tables import ColdSpell, FollowUp, SafetyCheck
from nuanxin.warehouses.tables import Warehouse

NOW = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
TODAY = date(2026, 11, 29)

Ids = dict[str, int]
RowMaker = Callable[[Ids], dict[str, Any]]

# In dependency order: each entry's values may use the ids of the rows before it.
ROWS: list[tuple[str, type[Table], RowMaker]] = [
    (
        "province",
        Region,
        lambda _: dict(
            code="230000",
            name="黑龙江省",
            full_name="黑龙江省",
            level="province",
            lat=45.74,
            lon=126.66,
        ),
    ),
    (
        "county",
        Region,
        lambda i: dict(
            code="230111",
            name="呼兰区",
            full_name="黑龙江省哈尔滨市呼兰区",
            level="county",
            parent=i["province"],
            lat=45.89,
            lon=126.58,
        ),
    ),
    (
        "geocode",
        GeocodeCache,
        lambda _: dict(
            provider="nominatim",
            query="呼兰区",
            lat=45.9,
            lon=126.6,
            response={"display_name": "呼兰区"},
            created_at=NOW,
        ),
    ),
    (
        "charity",
        Organization,
        lambda i: dict(
            name="测试基金会",
            credit_code="91230100TEST0001X",
            status="verified",
            region=i["county"],
            contact_name="联系人",
            contact_phone="13800000000",
            created_at=NOW,
            verified_at=NOW,
        ),
    ),
    (
        "warehouse",
        Warehouse,
        lambda i: dict(
            organization=i["charity"],
            name="呼兰仓库",
            address="呼兰区测试路1号",
            region=i["county"],
            lat=45.88,
            lon=126.58,
        ),
    ),
    (
        "staff",
        User,
        lambda i: dict(
            username="staff1",
            display_name="工作人员",
            password_hash="x",
            role="staff",
            jurisdiction=i["county"],
            created_at=NOW,
        ),
    ),
    (
        "member",
        User,
        lambda i: dict(
            username="member1",
            display_name="志愿者",
            password_hash="x",
            role="charity",
            organization=i["charity"],
            created_at=NOW,
        ),
    ),
    (
        "token",
        ApiToken,
        lambda i: dict(
            user=i["staff"], token_hash="a" * 64, label="cli", created_at=NOW, expires_at=NOW
        ),
    ),
    (
        "item",
        Item,
        lambda _: dict(
            code="quilt_test",
            kind="quilt",
            name_zh="棉被",
            name_en="Quilt",
            unit_zh="床",
            unit_en="quilt",
            requires=[],
        ),
    ),
    (
        "offer",
        Offer,
        lambda i: dict(
            organization=i["charity"],
            warehouse=i["warehouse"],
            item=i["item"],
            quantity=10,
            available=7,
            reserved=2,
            delivered=1,
            lat=45.88,
            lon=126.58,
            radius_km=50.0,
            available_from=TODAY,
            available_until=TODAY,
            created_by=i["member"],
            created_at=NOW,
            updated_at=NOW,
        ),
    ),
    (
        "household",
        Household,
        lambda i: dict(
            reference="HH000001",
            category="dibao",
            head_name="测试户主",
            id_hash="b" * 64,
            id_last4="123X",
            phone="13900000000",
            registered_address="户籍地址",
            current_address="现住址",
            region=i["county"],
            lat=45.9,
            lon=126.6,
            tags=["electricity"],
            status="verified",
            verified_by=i["staff"],
            verified_at=NOW,
            verification_expires_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        ),
    ),
    (
        "person",
        Member,
        lambda i: dict(
            household=i["household"], relation="self", birth_year=1948, sex="F", disability_level=2
        ),
    ),
    (
        "need",
        Need,
        lambda i: dict(
            household=i["household"],
            item=i["item"],
            quantity=2,
            allocated=1,
            weight=2.5,
            rule="size 2",
            updated_at=NOW,
        ),
    ),
    (
        "escalation",
        Escalation,
        lambda i: dict(
            household=i["household"],
            item=i["item"],
            quantity=3,
            reason="瘫痪在床",
            requested_by=i["staff"],
            decide_at=i["province"],
            created_at=NOW,
        ),
    ),
    (
        "round",
        MatchingRound,
        lambda i: dict(
            region=i["county"],
            kinds=["quilt_test"],
            status="proposed",
            progress=100,
            phase="done",
            stats={"units": 1},
            created_by=i["staff"],
            created_at=NOW,
        ),
    ),
    (
        "proposal",
        Proposal,
        lambda i: dict(
            round=i["round"],
            offer=i["offer"],
            household=i["household"],
            need=i["need"],
            quantity=1,
            distance_km=2.5,
            reason="距离 2.5 km",
        ),
    ),
    (
        "allocation",
        Allocation,
        lambda i: dict(
            proposal=i["proposal"],
            offer=i["offer"],
            household=i["household"],
            need=i["need"],
            quantity=1,
            distance_km=2.5,
            approved_by=i["staff"],
            created_at=NOW,
        ),
    ),
    (
        "visit",
        Visit,
        lambda i: dict(
            household=i["household"],
            organization=i["charity"],
            code_hash="v" * 64,
            created_at=NOW,
        ),
    ),
    (
        "delivery",
        Delivery,
        lambda i: dict(
            allocation=i["allocation"],
            visit=i["visit"],
            organization=i["charity"],
            code_hash="c" * 64,
            created_at=NOW,
        ),
    ),
    (
        "case",
        DeliveryCase,
        lambda i: dict(
            delivery=i["delivery"], household=i["household"], description="没收到", created_at=NOW
        ),
    ),
    (
        "confirmation_key",
        ConfirmationKey,
        lambda i: dict(
            key="5f0c6a4e-2d5b-4a57-9d1e-3f2b8c7a9e10",
            user=i["staff"],
            visit=i["visit"],
            fingerprint="f" * 64,
            offline=True,
            at_door=NOW,
            lat=45.9,
            lon=126.6,
            accuracy_m=20.0,
            answer={"ok": {"visit_id": i["visit"], "status": "delivered"}},
            created_at=NOW,
        ),
    ),
    (
        "offline_review",
        OfflineReview,
        lambda i: dict(
            visit=i["visit"],
            confirmation=i["confirmation_key"],
            courier=i["staff"],
            reason="wrong_code",
            status="open",
            at_door=NOW,
            created_at=NOW,
        ),
    ),
    (
        "campaign",
        Campaign,
        lambda i: dict(
            organization=i["charity"],
            title="呼兰区冬季取暖",
            region=i["county"],
            items=["quilt_test"],
            target_fen=10_000_00,
            ends_on=TODAY,
            created_at=NOW,
        ),
    ),
    (
        "donation",
        Donation,
        lambda i: dict(
            tracking_code="TRK0000000001",
            kind="money",
            organization=i["charity"],
            campaign=i["campaign"],
            amount_fen=50_00,
            created_at=NOW,
            updated_at=NOW,
        ),
    ),
    (
        "payment",
        Payment,
        lambda i: dict(
            donation=i["donation"],
            intent_id="pi_test_1",
            amount_fen=50_00,
            status="succeeded",
            created_at=NOW,
        ),
    ),
    (
        "event",
        WebhookEvent,
        lambda _: dict(
            event_id="evt_1",
            type="payment_intent.succeeded",
            created=1_790_000_000,
            received_at=NOW,
        ),
    ),
    (
        "purchase",
        Purchase,
        lambda i: dict(
            campaign=i["campaign"],
            offer=i["offer"],
            item=i["item"],
            quantity=5,
            cost_fen=40_00,
            recorded_by=i["member"],
            created_at=NOW,
        ),
    ),
    (
        "help",
        HelpRequest,
        lambda i: dict(
            source="hotline",
            region=i["county"],
            person_name="求助人",
            description="独居老人家里没有煤",
            logged_by=i["staff"],
            created_at=NOW,
        ),
    ),
    (
        "safety_check",
        SafetyCheck,
        lambda i: dict(
            visit=i["visit"],
            household=i["household"],
            chimney_sealed=True,
            vent=False,
            stove_not_in_bedroom=True,
            co_alarm="installed",
            leaflet=True,
            recorded_by=i["staff"],
            recorded_at=NOW,
        ),
    ),
    (
        "follow_up",
        FollowUp,
        lambda i: dict(
            household=i["household"],
            visit=i["visit"],
            kind="door_answer",
            urgent=True,
            problems=["vent"],
            winter=2026,
            delivered_on=TODAY,
            due_from=TODAY,
            due_by=date(2026, 11, 30),
            created_at=NOW,
        ),
    ),
    (
        "cold_spell",
        ColdSpell,
        lambda i: dict(
            region=i["county"],
            winter=2026,
            starts_on=date(2026, 11, 15),
            set_by=i["staff"],
            set_at=NOW,
        ),
    ),
    (
        "audit",
        AuditEntry,
        lambda i: dict(
            actor=i["staff"],
            actor_label="staff1",
            action="household.verify",
            entity="household",
            entity_id=str(i["household"]),
            before={"status": "unverified"},
            after={"status": "verified"},
            created_at=NOW,
        ),
    ),
]


async def insert_all() -> tuple[Ids, dict[str, dict[str, Any]]]:
    ids: Ids = {}
    values: dict[str, dict[str, Any]] = {}
    for name, table, make in ROWS:
        row = make(ids)
        inserted = await table.insert(table(**row)).returning(table._meta.primary_key).run()
        ids[name] = int(inserted[0]["id"])
        values[name] = row
    return ids, values


def test_every_app_table_has_a_row_to_round_trip() -> None:
    from nuanxin.admin import TABLES

    assert {table for _, table, _ in ROWS} == set(TABLES)


async def test_every_table_round_trips_a_row(db: None) -> None:
    ids, values = await insert_all()
    for name, table, _ in ROWS:
        stored = await (
            table.select()
            .where(table._meta.primary_key == ids[name])
            .output(load_json=True)
            .first()
            .run()
        )
        assert stored is not None, name
        for column, value in values[name].items():
            assert stored[column] == value, f"{name}.{column}: {stored[column]!r} != {value!r}"


async def refused(action: Callable[[], Awaitable[object]]) -> str:
    """Run ``action`` in a savepoint; return the database's error text (it must fail)."""
    with pytest.raises(Exception) as caught:
        async with atomic():
            await action()
    return str(caught.value).lower()


async def test_the_database_refuses_stock_that_is_negative_or_does_not_add_up(db: None) -> None:
    ids, _ = await insert_all()
    offer = Offer._meta.primary_key == ids["offer"]
    assert "stock_not_negative" in await refused(
        lambda: Offer.update({Offer.available: -1, Offer.quantity: 2}).where(offer).run()
    )
    assert "stock_adds_up" in await refused(
        lambda: Offer.update({Offer.available: 100}).where(offer).run()
    )
    assert "allocated_within_quantity" in await refused(
        lambda: Need.update({Need.allocated: 5}).where(Need._meta.primary_key == ids["need"]).run()
    )
    stored = await Offer.select(Offer.available).where(offer).first().run()
    assert stored == {"available": 7}


async def test_the_database_refuses_duplicate_codes(db: None) -> None:
    ids, values = await insert_all()
    assert "unique" in await refused(lambda: Region.insert(Region(**values["county"])).run())
    assert "unique" in await refused(
        lambda: Delivery.insert(
            Delivery(**{**values["delivery"], "allocation": ids["allocation"]})
        ).run()
    )
    assert "unique" in await refused(lambda: Donation.insert(Donation(**values["donation"])).run())
    assert "unique" in await refused(lambda: Need.insert(Need(**values["need"])).run())


async def test_the_database_refuses_references_to_missing_rows(db: None) -> None:
    _, values = await insert_all()
    assert "foreign key" in await refused(
        lambda: Household.insert(
            Household(
                **{**values["household"], "reference": "HH9", "id_hash": "h9", "region": 987654}
            )
        ).run()
    )


async def test_the_database_refuses_rows_that_break_the_domain_rules(db: None) -> None:
    _, values = await insert_all()
    assert "staff_have_a_jurisdiction" in await refused(
        lambda: User.insert(
            User(**{**values["staff"], "username": "nobody", "jurisdiction": None})
        ).run()
    )
    assert "members_have_a_charity" in await refused(
        lambda: User.insert(
            User(**{**values["member"], "username": "loner", "organization": None})
        ).run()
    )
    assert "money_or_goods" in await refused(
        lambda: Donation.insert(
            Donation(**{**values["donation"], "tracking_code": "TRK2", "quantity": 3})
        ).run()
    )
    assert "verified_has_expiry" in await refused(
        lambda: Household.insert(
            Household(
                **{**values["household"], "reference": "HH2", "verification_expires_at": None}
            )
        ).run()
    )
    assert "lat_in_range" in await refused(
        lambda: Region.insert(Region(**{**values["county"], "code": "1", "lat": 91.0})).run()
    )


async def test_a_refused_write_leaves_nothing_half_written(db: None) -> None:
    _, values = await insert_all()

    async def two_writes() -> None:
        await Region.insert(Region(**{**values["county"], "code": "230112"})).run()
        await Region.insert(Region(**{**values["county"], "code": "230112"})).run()

    await refused(two_writes)
    assert not await Region.exists().where(Region.code == "230112").run()
