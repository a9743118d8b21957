"""A campaign's books: paid money net of refunds and of what it bought, campaign by campaign;
and which campaigns are listed, opened, closed and take donations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import msgspec
import pytest

from nuanxin.accounts.tables import User
from nuanxin.audit.tables import AuditEntry
from nuanxin.donations import campaigns
from nuanxin.donations.campaigns import campaign_books, yuan
from nuanxin.donations.records import new_tracking_code
from nuanxin.donations.schemas import Campaign as CampaignAnswer
from nuanxin.donations.schemas import CampaignBooks, CampaignCreate
from nuanxin.donations.tables import Campaign, Donation
from nuanxin.donations.vocabulary import CampaignStatus
from nuanxin.errors import Conflict, DomainError, NotFound
from nuanxin.identity import CurrentUser, Role
from nuanxin.pagination import Page, Pagination
from tests.nuanxin.conftest import make_region, make_user
from tests.nuanxin.donations.helpers import Charity, _token, buy, future, open_campaign


async def _gift(
    charity: Charity,
    campaign_id: int,
    amount: int,
    status: str,
    refunded: int = 0,
    kind: str = "money",
) -> None:
    now = datetime.now(UTC)
    goods = kind == "goods"
    await Donation.insert(
        Donation(
            tracking_code=new_tracking_code(),
            kind=kind,
            organization=charity.organization_id,
            campaign=campaign_id,
            amount_fen=0 if goods else amount,
            quantity=amount if goods else 0,
            refunded_fen=refunded,
            status=status,
            created_at=now,
            updated_at=now,
        )
    ).run()


async def _campaign(charity: Charity, *, ends_on: date, status: str = "open") -> int:
    rows = (
        await Campaign.insert(
            Campaign(
                organization=charity.organization_id,
                title="旧的",
                region=charity.county_id,
                items=["coal"],
                target_fen=100_00,
                ends_on=ends_on,
                status=status,
                created_at=datetime.now(UTC),
            )
        )
        .returning(Campaign.id)
        .run()
    )
    return int(rows[0]["id"])


async def _member(username: str) -> CurrentUser:
    """A charity's member, as the API knows them."""
    row = (
        await User.select(User.id, User.organization).where(User.username == username).first().run()
    )
    assert row is not None
    return CurrentUser(
        id=row["id"],
        username=username,
        role=Role.charity,
        jurisdiction_id=None,
        organization_id=row["organization"],
    )


def _with(data: CampaignCreate, **changes: object) -> CampaignCreate:
    return msgspec.structs.replace(data, **changes)


def _books(raised: int, refunded: int, spent: int, donations: int, bought: int) -> CampaignBooks:
    return CampaignBooks(
        raised_fen=raised,
        refunded_fen=refunded,
        spent_fen=spent,
        left_fen=raised - refunded - spent,
        donations=donations,
        goods_bought=bought,
        units_delivered=0,
    )


async def test_the_books_count_paid_money_net_of_refunds_and_purchases_campaign_by_campaign(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    first = await open_campaign(client, charity)
    for amount, status, refunded in (
        (100_00, "paid", 0),
        (50_00, "partially_refunded", 20_00),
        (30_00, "refunded", 30_00),
        (40_00, "created", 0),  # never paid: not money of the campaign
        (10_00, "failed", 0),
    ):
        await _gift(charity, first, amount, status, refunded)
    await _gift(charity, first, 5, "accepted", kind="goods")  # goods are no money
    assert (await buy(client, charity, 60_00, quantity=8)).status_code == 201
    second = await open_campaign(client, charity)
    await _gift(charity, second, 7_00, "paid")
    empty = await open_campaign(client, charity)
    books = await campaign_books([first, second, empty])
    assert books == {
        first: _books(raised=180_00, refunded=50_00, spent=60_00, donations=3, bought=8),
        second: _books(raised=7_00, refunded=0, spent=0, donations=1, bought=0),
        empty: _books(raised=0, refunded=0, spent=0, donations=0, bought=0),
    }
    assert await campaign_books([]) == {}
    listed = (await client.get("/api/campaigns")).json()["items"]
    assert [(c["id"], c["books"]["left_fen"]) for c in listed] == [
        (empty, 0),
        (second, 7_00),
        (first, 70_00),
    ]


def test_fen_are_written_as_yuan_with_two_decimals_and_separated_thousands() -> None:
    assert yuan(0) == "¥0.00"
    assert yuan(5) == "¥0.05"
    assert yuan(1_00) == "¥1.00"
    assert yuan(123_456_789) == "¥1,234,567.89"
    assert yuan(-1_50) == "-¥1.50"


async def test_campaigns_are_listed_by_status_region_and_charity_newest_first(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    await make_region("230100", level="city")
    await make_region("230112")  # a neighbouring county, with no campaign
    today = datetime.now(UTC).date()
    ended = await _campaign(charity, ends_on=today - timedelta(days=1))
    last_day = await _campaign(charity, ends_on=today)
    closed = await _campaign(charity, ends_on=today + timedelta(days=9), status="closed")

    async def ids(query: str = "") -> tuple[list[int], int]:
        page = (await client.get(f"/api/campaigns{query}")).json()
        return [c["id"] for c in page["items"]], page["total"]

    assert await ids() == ([last_day], 1)  # open and not ended: the last day still counts
    assert await ids("?status=closed") == ([closed], 1)
    assert await ids("?status=all") == ([closed, last_day, ended], 3)
    assert await ids("?status=all&limit=1&offset=1") == ([last_day], 3)
    assert await ids("?status=all&region_code=230111") == ([closed, last_day, ended], 3)
    assert await ids("?status=all&region_code=230100") == ([closed, last_day, ended], 3)
    assert await ids("?status=all&region_code=230112") == ([], 0)
    assert await ids("?status=all&region_code=999999") == ([], 0)
    assert await ids(f"?status=all&organization_id={charity.organization_id}") == (
        [closed, last_day, ended],
        3,
    )
    assert await ids(f"?status=all&organization_id={charity.organization_id + 1}") == ([], 0)


async def test_a_campaign_takes_donations_until_its_last_day_while_open(charity: Charity) -> None:
    today = datetime.now(UTC).date()
    last_day = await _campaign(charity, ends_on=today)
    assert (await campaigns.open_campaign(last_day))["id"] == last_day
    for ended in (
        await _campaign(charity, ends_on=today - timedelta(days=1)),
        await _campaign(charity, ends_on=today + timedelta(days=9), status="closed"),
    ):
        with pytest.raises(Conflict) as refused:
            await campaigns.open_campaign(ended, field="campaign_id")
        assert (refused.value.error, refused.value.field) == ("campaign_closed", "campaign_id")


async def test_a_campaign_opens_for_a_county_from_tomorrow_on_with_each_item_once(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    await make_region("230100", level="city")
    body = {
        "title": "冬季",
        "region_code": "230111",
        "item_codes": ["coal", "quilt", "coal"],
        "target_fen": 100_00,
        "ends_on": datetime.now(UTC).date().isoformat(),
    }
    today = await client.post("/api/campaigns", headers=charity.member, json=body)
    assert today.status_code == 400 and today.json()["field"] == "ends_on"
    city = await client.post(
        "/api/campaigns",
        headers=charity.member,
        json={**body, "region_code": "230100", "ends_on": future(1)},
    )
    assert city.status_code == 400 and city.json()["field"] == "region_code"
    unknown = await client.post(
        "/api/campaigns",
        headers=charity.member,
        json={**body, "item_codes": ["coal", "caviar"], "ends_on": future(1)},
    )
    assert unknown.status_code == 400 and "caviar" in unknown.json()["detail"]
    opened = await client.post(
        "/api/campaigns", headers=charity.member, json={**body, "ends_on": future(1)}
    )
    assert opened.status_code == 201, opened.text
    campaign = opened.json()
    assert campaign["item_codes"] == ["coal", "quilt"]
    assert (campaign["status"], campaign["target_fen"], campaign["ends_on"]) == (
        "open",
        100_00,
        future(1),
    )
    assert (campaign["organization_id"], campaign["region_name"]) == (
        charity.organization_id,
        "区划230111",
    )
    entry = (
        await AuditEntry.select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.after)
        .where(AuditEntry.entity == "campaign")
        .output(load_json=True)
        .run()
    )
    assert entry == [
        {
            "action": "campaign.create",
            "entity_id": str(campaign["id"]),
            "after": {
                "title": "冬季",
                "region": "230111",
                "items": ["coal", "quilt", "coal"],
                "target_fen": 100_00,
                "ends_on": future(1),
            },
        }
    ]


async def test_only_the_campaign_s_own_members_act_on_it_and_closing_is_audited(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    campaign_id = await open_campaign(client, charity)
    admin = await make_user("d_admin", Role.admin)
    admin_headers = await _token(admin, "donations-admin-token")
    for headers in (admin_headers, charity.other_member):
        refused = await client.post(f"/api/campaigns/{campaign_id}/close", headers=headers)
        assert refused.status_code in (403, 404), refused.text
    closed = await client.post(f"/api/campaigns/{campaign_id}/close", headers=charity.member)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    [entry] = (
        await AuditEntry.select(AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.action == "campaign.close")
        .output(load_json=True)
        .run()
    )
    assert entry == {"before": {"status": "open"}, "after": {"status": "closed"}}
    missing = await client.get(f"/api/campaigns/{campaign_id + 100}")
    assert missing.status_code == 404


async def test_a_campaign_s_refusals_name_the_field_and_the_message_a_page_translates(
    client: httpx.AsyncClient, charity: Charity
) -> None:
    await make_region("230100", level="city")
    member = await User.select(User.id).where(User.username == "d_member").first().run()
    assert member is not None
    user = CurrentUser(
        id=member["id"],
        username="d_member",
        role=Role.charity,
        jurisdiction_id=None,
        organization_id=charity.organization_id,
    )
    admin = CurrentUser(
        id=member["id"],
        username="root",
        role=Role.admin,
        jurisdiction_id=None,
        organization_id=None,
    )
    unaffiliated = CurrentUser(
        id=member["id"],
        username="lone",
        role=Role.charity,
        jurisdiction_id=None,
        organization_id=None,
    )
    good = CampaignCreate(
        title="冬季",
        region_code="230111",
        item_codes=["coal"],
        target_fen=100_00,
        ends_on=datetime.now(UTC).date() + timedelta(days=1),
    )
    refusals: list[tuple[CurrentUser, CampaignCreate, str | None, str, str]] = [
        (
            user,
            _with(good, ends_on=datetime.now(UTC).date()),
            "ends_on",
            "end_date_in_past",
            "The end date must be in the future",
        ),
        (
            user,
            _with(good, region_code="230100"),
            "region_code",
            "unknown_region",
            "No county has the code '230100'",
        ),
        (
            user,
            _with(good, item_codes=["coal", "caviar", "truffle"]),
            "item_codes",
            "unknown_item",
            "Not in the catalogue: caviar, truffle",
        ),
        (admin, good, None, "forbidden", "Only a charity's members may do this"),
        (unaffiliated, good, None, "forbidden", "Only a charity's members may do this"),
    ]
    for actor, data, field, message_id, detail in refusals:
        with pytest.raises(DomainError) as refused:
            await campaigns.create_campaign(user=actor, data=data)
        assert (refused.value.field, refused.value.message_id) == (field, message_id)
        assert refused.value.detail == detail
    campaign_id = (await campaigns.create_campaign(user=user, data=good)).id
    with pytest.raises(NotFound) as hidden:
        await campaigns.own_campaign(admin, campaign_id)
    assert hidden.value.detail == "No such campaign for your charity"
    with pytest.raises(NotFound) as missing:
        await campaigns.campaign_row(campaign_id + 1, field="campaign_id")
    assert (missing.value.field, missing.value.detail) == (
        "campaign_id",
        f"No campaign has the id {campaign_id + 1}",
    )
    with pytest.raises(NotFound) as not_open:
        await campaigns.open_campaign(campaign_id + 1, field="campaign_id")
    assert not_open.value.field == "campaign_id"
    await campaigns.close_campaign(user=user, campaign_id=campaign_id)
    with pytest.raises(Conflict) as again:
        await campaigns.close_campaign(user=user, campaign_id=campaign_id)
    assert (again.value.error, again.value.detail) == (
        "campaign_closed",
        "The campaign is closed already",
    )
    with pytest.raises(Conflict) as closed:
        await campaigns.open_campaign(campaign_id)
    assert closed.value.detail == "The campaign takes no more donations"


@pytest.mark.usefixtures("clock_in_china")
async def test_a_campaign_answers_with_its_own_fields_and_its_trail_names_who_opened_and_closed_it(
    charity: Charity,
) -> None:
    user = await _member("d_member")
    ends_on = datetime.now(UTC).date() + timedelta(days=2)
    data = CampaignCreate(
        title="呼兰区冬季取暖",
        region_code="230111",
        item_codes=["coal"],
        target_fen=100_00,
        ends_on=ends_on,
    )
    before = datetime.now(UTC)
    opened = await campaigns.create_campaign(user=user, data=data)
    # The true instant, though the process's clock is Beijing's.
    assert before <= opened.created_at <= datetime.now(UTC)
    expected = CampaignAnswer(
        id=opened.id,
        title="呼兰区冬季取暖",
        organization_id=charity.organization_id,
        organization_name="暖冬基金会",
        region_code="230111",
        region_name="区划230111",
        item_codes=["coal"],
        target_fen=100_00,
        ends_on=ends_on,
        status=CampaignStatus.open,
        created_at=opened.created_at,
        books=_books(raised=0, refunded=0, spent=0, donations=0, bought=0),
    )
    assert opened == expected
    assert await campaigns.get_campaign(campaign_id=opened.id) == expected
    newer = await campaigns.create_campaign(user=user, data=_with(data, title="第二"))
    assert await campaigns.list_campaigns(page=Pagination(limit=1, offset=1)) == Page(
        items=[expected], total=2, limit=1, offset=1
    )
    first_page = await campaigns.list_campaigns(page=Pagination(limit=1))
    assert ([c.id for c in first_page.items], first_page.limit, first_page.offset) == (
        [newer.id],
        1,
        0,
    )

    stranger = await _member("d_other")  # a member of another charity
    with pytest.raises(NotFound) as hidden:
        await campaigns.close_campaign(user=stranger, campaign_id=opened.id)
    assert (hidden.value.detail, hidden.value.params) == ("No such campaign", {"what": "campaign"})
    closed = await campaigns.close_campaign(user=user, campaign_id=opened.id)
    assert closed == msgspec.structs.replace(expected, status=CampaignStatus.closed)
    trail = (
        await AuditEntry.select(
            AuditEntry.actor,
            AuditEntry.actor_label,
            AuditEntry.action,
            AuditEntry.entity,
            AuditEntry.entity_id,
        )
        .where(AuditEntry.entity_id == str(opened.id))
        .order_by(AuditEntry.id)
        .run()
    )
    assert trail == [
        {
            "actor": user.id,
            "actor_label": "d_member",
            "action": action,
            "entity": "campaign",
            "entity_id": str(opened.id),
        }
        for action in ("campaign.create", "campaign.close")
    ]
