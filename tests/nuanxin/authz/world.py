"""A small world for authorisation tests: two neighbouring counties, two charities, records.

Built directly in the tables (not through services), inside the test's transaction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from nuanxin.accounts.tables import ApiToken, Organization
from nuanxin.deliveries.confirmation import code_hash
from nuanxin.help_requests.tables import HelpRequest
from nuanxin.households.tables import Household, Member, Need
from nuanxin.identity import Role, digest
from nuanxin.offers.tables import Item, Offer
from nuanxin.regions.tables import Region
from nuanxin.warehouses.tables import Warehouse
from tests.nuanxin.authz.advice import build_advice
from tests.nuanxin.authz.donations import build_donations
from tests.nuanxin.authz.locations import build_locations
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.routes import build_routes
from tests.nuanxin.authz.safety import build_safety
from tests.nuanxin.conftest import make_user


@dataclass(kw_only=True)
class World:
    province_id: int
    county_a_id: int
    county_b_id: int
    township_a_id: int
    charity_x_id: int
    charity_y_id: int
    warehouse_x_id: int
    warehouse_y_id: int
    offer_x_id: int
    offer_y_id: int
    household_id: int  # in county A, verified
    household_b_id: int  # in county B, verified
    need_id: int  # the household's quilt need
    help_request_id: int  # in county A, open
    item_quilt_id: int
    user_ids: dict[Caller, int] = field(default_factory=dict)
    tokens: dict[Caller, str] = field(default_factory=dict)
    campaign_x_id: int = 0  # donations: charity X's open campaign in county A
    donation_x_id: int = 0  # donations: a paid money donation to it
    goods_donation_x_id: int = 0  # donations: goods given to charity X, not yet decided
    tracking_code_x: str = ""  # donations: the money donation's tracking code
    round_id: int = 0  # rounds: a proposed round over county A, by STAFF
    proposal_id: int = 0  # rounds: its open proposal of offer X to the household
    delivery_id: int = 0  # deliveries: a pending delivery of charity X to the household
    visit_id: int = 0  # its visit (slip printed, code DELIVERY_CODE)
    allocation_id: int = 0  # deliveries: its allocation, made in an emergency (先行救助)
    escalation_id: int = 0  # households: a pending 一事一议 request for the household, by STAFF
    advice_x_id: int = 0  # advice: charity X's purchase advice, one line
    case_id: int = 0  # deliveries: an open "not received" case of the household's delivery
    follow_up_id: int = 0  # safety: an open follow-up of the household's visit
    route_x_id: int = 0  # routes: charity X's route for today through the world's visit
    suggestion_id: int = 0  # households: a courier's point for the household, pending
    review_id: int = 0  # deliveries: an offline code for the visit, held for staff

    def headers(self, caller: Caller) -> dict[str, str]:
        if caller is Caller.ANON:
            return {}
        return {"authorization": f"Bearer {self.tokens[caller]}"}

    @property
    def courier_account_id(self) -> int:
        """The account of charity X's courier (a member of charity X)."""
        return self.user_ids[Caller.COURIER]


async def _region(
    code: str, name: str, level: str, parent: int | None, lat: float, lon: float
) -> int:
    rows = (
        await Region.insert(
            Region(
                code=code, name=name, full_name=name, level=level, parent=parent, lat=lat, lon=lon
            )
        )
        .returning(Region.id)
        .run()
    )
    return int(rows[0]["id"])


async def _org(name: str, credit: str, region: int) -> int:
    now = datetime.now(UTC)
    rows = (
        await Organization.insert(
            Organization(
                name=name,
                credit_code=credit,
                status="verified",
                region=region,
                contact_name="联系人",
                contact_phone="13800000000",
                created_at=now,
                verified_at=now,
            )
        )
        .returning(Organization.id)
        .run()
    )
    return int(rows[0]["id"])


async def _warehouse(org: int, region: int, lat: float, lon: float) -> int:
    rows = (
        await Warehouse.insert(
            Warehouse(
                organization=org, name="仓库", address="测试路1号", region=region, lat=lat, lon=lon
            )
        )
        .returning(Warehouse.id)
        .run()
    )
    return int(rows[0]["id"])


async def _offer(org: int, warehouse: int, item: int, lat: float, lon: float) -> int:
    now = datetime.now(UTC)
    rows = (
        await Offer.insert(
            Offer(
                organization=org,
                warehouse=warehouse,
                item=item,
                quantity=20,
                available=20,
                lat=lat,
                lon=lon,
                radius_km=50.0,
                available_from=now.date(),
                available_until=(now + timedelta(days=60)).date(),
                created_at=now,
                updated_at=now,
            )
        )
        .returning(Offer.id)
        .run()
    )
    return int(rows[0]["id"])


async def _household(reference: str, region: int, lat: float, lon: float, verifier: int) -> int:
    now = datetime.now(UTC)
    rows = (
        await Household.insert(
            Household(
                reference=reference,
                category="dibao",
                head_name=f"测试户主{reference}",
                id_hash=digest(reference),
                id_last4="123X",
                phone="13912345678",
                registered_address="户籍地址",
                current_address="现住址测试村1号",
                region=region,
                lat=lat,
                lon=lon,
                tags=["electricity", "coal_stove"],
                status="verified",
                verified_by=verifier,
                verified_at=now,
                created_at=now,
                updated_at=now,
                verification_expires_at=now + timedelta(days=365),
            )
        )
        .returning(Household.id)
        .run()
    )
    return int(rows[0]["id"])


async def build_world() -> World:
    quilt = await Item.select(Item.id).where(Item.code == "quilt").first().run()
    assert quilt is not None
    item = int(quilt["id"])
    province = await _region("230000", "黑龙江省", "province", None, 45.74, 126.66)
    city = await _region("230100", "哈尔滨市", "city", province, 45.80, 126.53)
    county_a = await _region("230111", "呼兰区", "county", city, 45.89, 126.58)
    county_b = await _region("230112", "阿城区", "county", city, 45.55, 126.95)
    township_a = await _region("230111005", "康金街道", "township", county_a, 45.89, 126.58)
    charity_x = await _org("测试慈善X", "91230100AUTHZ001X", county_a)
    charity_y = await _org("测试慈善Y", "91230100AUTHZ002X", county_b)
    users = {
        Caller.ADMIN: await make_user("w_admin", Role.admin),
        Caller.STAFF: await make_user("w_staff", Role.staff, jurisdiction=county_a),
        Caller.NEIGHBOUR: await make_user("w_neighbour", Role.staff, jurisdiction=county_b),
        Caller.PROVINCE: await make_user("w_province", Role.staff, jurisdiction=province),
        Caller.CHARITY: await make_user("w_charity", Role.charity, organization=charity_x),
        Caller.OTHER_CHARITY: await make_user("w_other", Role.charity, organization=charity_y),
        Caller.COURIER: await make_user("w_courier", Role.courier, organization=charity_x),
    }
    tokens: dict[Caller, str] = {}
    now = datetime.now(UTC)
    for caller, user_id in users.items():
        token = f"world-token-{caller.value}"
        await ApiToken.insert(
            ApiToken(
                user=user_id,
                token_hash=digest(token),
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        ).run()
        tokens[caller] = token
    warehouse_x = await _warehouse(charity_x, county_a, 45.88, 126.58)
    warehouse_y = await _warehouse(charity_y, county_b, 45.55, 126.95)
    household = await _household("HHWORLD1", county_a, 45.90, 126.60, users[Caller.STAFF])
    household_b = await _household("HHWORLD2", county_b, 45.56, 126.96, users[Caller.NEIGHBOUR])
    await Member.insert(Member(household=household, birth_year=1950, disability_level=0)).run()
    need_rows = (
        await Need.insert(
            Need(
                household=household, item=item, quantity=2, weight=2.0, rule="test", updated_at=now
            )
        )
        .returning(Need.id)
        .run()
    )
    help_rows = (
        await HelpRequest.insert(
            HelpRequest(
                source="public",
                region=county_a,
                person_name="求助人",
                address="呼兰区某村",
                description="家里没有煤",
                created_at=now,
            )
        )
        .returning(HelpRequest.id)
        .run()
    )
    world = World(
        province_id=province,
        county_a_id=county_a,
        county_b_id=county_b,
        township_a_id=township_a,
        charity_x_id=charity_x,
        charity_y_id=charity_y,
        warehouse_x_id=warehouse_x,
        warehouse_y_id=warehouse_y,
        offer_x_id=await _offer(charity_x, warehouse_x, item, 45.88, 126.58),
        offer_y_id=await _offer(charity_y, warehouse_y, item, 45.55, 126.95),
        household_id=household,
        household_b_id=household_b,
        need_id=int(need_rows[0]["id"]),
        help_request_id=int(help_rows[0]["id"]),
        item_quilt_id=item,
        user_ids=users,
        tokens=tokens,
    )
    await build_donations(world)
    await build_matching(world)
    await build_advice(world)
    await build_safety(world)
    await build_routes(world)
    await build_locations(world)
    return world


DELIVERY_CODE = "13572468"


async def build_matching(world: World) -> None:
    """A proposed round in county A with one open proposal, and one pending delivery."""
    from nuanxin.deliveries.tables import Allocation, Delivery, Visit
    from nuanxin.rounds.tables import MatchingRound, Proposal

    now = datetime.now(UTC)
    staff = world.user_ids[Caller.STAFF]
    rounds = (
        await MatchingRound.insert(
            MatchingRound(
                region=world.county_a_id,
                kinds=["quilt"],
                status="proposed",
                progress=100,
                phase="done",
                created_by=staff,
                created_at=now,
                finished_at=now,
            )
        )
        .returning(MatchingRound.id)
        .run()
    )
    world.round_id = int(rounds[0]["id"])
    proposals = (
        await Proposal.insert(
            Proposal(
                round=world.round_id,
                offer=world.offer_x_id,
                household=world.household_id,
                need=world.need_id,
                quantity=1,
                distance_km=2.0,
                reason="距离 2.0 km",
            )
        )
        .returning(Proposal.id)
        .run()
    )
    world.proposal_id = int(proposals[0]["id"])
    allocations = (
        await Allocation.insert(
            Allocation(
                offer=world.offer_x_id,
                household=world.household_id,
                need=world.need_id,
                quantity=1,
                distance_km=2.0,
                approved_by=staff,
                created_at=now,
                emergency=True,
                paperwork_due_at=now + timedelta(days=7),
            )
        )
        .returning(Allocation.id)
        .run()
    )
    visits = (
        await Visit.insert(
            Visit(
                household=world.household_id,
                organization=world.charity_x_id,
                code_hash=code_hash(os.environ["SECRET_KEY"], DELIVERY_CODE),
                printed_count=1,
                created_at=now,
            )
        )
        .returning(Visit.id)
        .run()
    )
    world.visit_id = int(visits[0]["id"])
    deliveries = (
        await Delivery.insert(
            Delivery(
                allocation=int(allocations[0]["id"]),
                visit=world.visit_id,
                organization=world.charity_x_id,
                code_hash=digest(DELIVERY_CODE),
                created_at=now,
            )
        )
        .returning(Delivery.id)
        .run()
    )
    world.delivery_id = int(deliveries[0]["id"])
    from nuanxin.deliveries.tables import DeliveryCase

    cases = (
        await DeliveryCase.insert(
            DeliveryCase(
                delivery=world.delivery_id,
                household=world.household_id,
                description="没收到",
                created_at=now,
            )
        )
        .returning(DeliveryCase.id)
        .run()
    )
    world.case_id = int(cases[0]["id"])
    from nuanxin.deliveries.tables import ConfirmationKey, OfflineReview

    keys = (
        await ConfirmationKey.insert(
            ConfirmationKey(
                key="00000000-0000-4000-8000-000000000001",
                user=world.user_ids[Caller.COURIER],
                visit=world.visit_id,
                fingerprint="0" * 64,
                offline=True,
                at_door=now,
                created_at=now,
            )
        )
        .returning(ConfirmationKey.id)
        .run()
    )
    reviews = (
        await OfflineReview.insert(
            OfflineReview(
                visit=world.visit_id,
                confirmation=int(keys[0]["id"]),
                courier=world.user_ids[Caller.COURIER],
                reason="wrong_code",
                at_door=now,
                created_at=now,
            )
        )
        .returning(OfflineReview.id)
        .run()
    )
    world.review_id = int(reviews[0]["id"])
    world.allocation_id = int(allocations[0]["id"])
    await (
        Offer.update({Offer.available: Offer.available - 1, Offer.reserved: 1})
        .where(Offer.id == world.offer_x_id)
        .run()
    )
    await Need.update({Need.allocated: 1}).where(Need.id == world.need_id).run()
    from nuanxin.households.tables import Escalation

    city = await Region.select(Region.parent).where(Region.id == world.county_a_id).first().run()
    assert city is not None
    escalations = (
        await Escalation.insert(
            Escalation(
                household=world.household_id,
                item=world.item_quilt_id,
                quantity=4,
                reason="瘫痪在床",
                requested_by=staff,
                decide_at=city["parent"],
                created_at=now,
            )
        )
        .returning(Escalation.id)
        .run()
    )
    world.escalation_id = int(escalations[0]["id"])
