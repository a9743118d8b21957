"""Personal data never leaks: a crawl of every answer the public, donors and charities get.

Households are registered through the API with full names, ID numbers, phones and addresses;
the loop runs (round, approval, one delivery confirmed, one failed, one left open); then every
GET endpoint of the route table (API and pages) is called as the public and as members of
both charities, and every answer is searched for those secrets. Charity X sees the address and
phone of a household only while its own delivery to it is open; its members never see a full
name or an ID number; after the delivery closes, nothing. The other charity and the public:
nothing, ever.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any

import httpx
from litestar import Litestar

from tests.nuanxin.authz.matrix import endpoints, fill_path, load_policy
from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import World, build_world
from tests.nuanxin.conftest import run_jobs
from tests.nuanxin.households.helpers import household_body, id_number

CRAWLERS = (Caller.ANON, Caller.CHARITY, Caller.OTHER_CHARITY, Caller.COURIER)
CHARITY_X = (Caller.CHARITY, Caller.COURIER)


@dataclass(kw_only=True)
class Secrets:
    reference: str
    name: str
    id_number: str
    phone: str
    current_address: str
    registered_address: str

    def contact(self) -> dict[str, str]:
        return {"phone": self.phone, "current_address": self.current_address}

    def identity(self) -> dict[str, str]:
        return {
            "name": self.name,
            "id_number": self.id_number,
            "registered_address": self.registered_address,
        }


async def register(client: httpx.AsyncClient, world: World, number: int) -> Secrets:
    secrets = Secrets(
        reference="",
        name=f"欧阳{'春夏秋'[number]}菊",
        id_number=id_number(sequence=100 + number),
        phone=f"1590000{number:04d}",
        current_address=f"呼兰区康金街道隐私村{number}组{70 + number}号",
        registered_address=f"山东省隐私县户籍村{number}号",
    )
    body = household_body(
        head_name=secrets.name,
        id_number=secrets.id_number,
        phone=secrets.phone,
        current_address=secrets.current_address,
        registered_address=secrets.registered_address,
    )
    created = await client.post("/api/households", json=body, headers=world.headers(Caller.STAFF))
    assert created.status_code == 201, created.text
    secrets.reference = created.json()["reference"]
    verified = await client.post(
        f"/api/households/{created.json()['id']}/verify", headers=world.headers(Caller.PROVINCE)
    )
    assert verified.status_code == 200, verified.text
    return secrets


async def run_the_loop(
    client: httpx.AsyncClient, world: World, households: list[Secrets]
) -> dict[str, str]:
    """Round, approval, then: first confirmed, second failed, third left open.

    Returns each household's delivery state by reference.
    """
    staff = world.headers(Caller.STAFF)
    # the world's own proposed round would block a new one: reject its proposal first
    await client.post(f"/api/rounds/{world.round_id}/reject", json={"all": True}, headers=staff)
    started = await client.post("/api/rounds", json={"item_codes": ["quilt"]}, headers=staff)
    assert started.status_code == 202, started.text
    round_id = started.json()["id"]
    await run_jobs()
    approved = await client.post(
        f"/api/rounds/{round_id}/approve", json={"all": True}, headers=staff
    )
    assert approved.status_code == 200, approved.text
    listed = await client.get("/api/deliveries", params={"limit": 200}, headers=staff)
    by_reference = {d["household_reference"]: d for d in listed.json()["items"]}
    assert all(h.reference in by_reference for h in households), (approved.text, listed.text[:1500])
    ours = [by_reference[h.reference] for h in households]
    assert all(d["organization_id"] == world.charity_x_id for d in ours)
    confirmed, failed, _open = ours
    slip = await client.post(f"/api/deliveries/{confirmed['id']}/slip", headers=staff)
    code = slip.json()["code"]
    done = await client.post(
        f"/api/deliveries/{confirmed['id']}/confirm",
        json={"code": code},
        headers=world.headers(Caller.COURIER),
    )
    assert done.status_code == 200, done.text
    fail = await client.post(
        f"/api/deliveries/{failed['id']}/fail",
        json={"reason": "nobody home"},
        headers=world.headers(Caller.COURIER),
    )
    assert fail.status_code == 200, fail.text
    world.delivery_id = _open["id"]  # the crawl's delivery pages show the open one
    states = ("closed", "closed", "open")
    return {h.reference: state for h, state in zip(households, states, strict=True)}


def found_in(text: str, secrets: dict[str, str]) -> list[str]:
    return [kind for kind, value in secrets.items() if value and value in text]


async def test_no_answer_to_the_public_or_a_charity_shows_what_it_should_not(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    world = await build_world()
    households = [await register(client, world, number) for number in range(3)]
    states = await run_the_loop(client, world, households)
    policy = load_policy()
    await client.get("/health")
    leaks: list[str] = []
    crawled = 0
    for caller in CRAWLERS:
        for key, method, path in endpoints(app):
            if method != "GET" or key not in policy:
                continue
            url = fill_path(path, policy[key], world)
            response = await client.get(url, headers={**world.headers(caller)})
            crawled += 1
            text = response.text
            with contextlib.suppress(ValueError):
                text += json.dumps(response.json(), ensure_ascii=False)
            for household in households:
                may_see_contact = caller in CHARITY_X and states[household.reference] == "open"
                forbidden: dict[str, Any] = household.identity()
                if not may_see_contact:
                    forbidden |= household.contact()
                for kind in found_in(text, forbidden):
                    leaks.append(f"{key} {url} as {caller.value}: {kind} of {household.reference}")
    assert crawled > 40
    assert not leaks, "\n".join(sorted(set(leaks)))


async def test_the_charity_does_see_the_contact_of_its_open_delivery(
    client: httpx.AsyncClient,
) -> None:
    """The crawl is not blind: what is allowed does appear where it should."""
    world = await build_world()
    households = [await register(client, world, number) for number in range(3)]
    await run_the_loop(client, world, households)
    listed = await client.get("/api/deliveries", headers=world.headers(Caller.COURIER))
    text = listed.text
    assert households[2].phone in text and households[2].current_address in text
    assert households[0].phone not in text and households[1].current_address not in text
    assert households[2].name not in text, "a masked name only"
