"""先行救助 for a person without papers: helped first, identified as part of the paperwork."""

from __future__ import annotations

import httpx

from tests.nuanxin.households.helpers import id_number
from tests.nuanxin.loop_world import COUNTY, add_offer, build_loop

PERSON = {
    "category": "temporary",
    "head_name": "无证件老人",
    "current_address": "呼兰区桥洞下",
    "region_code": "230111",
    "members": [{"birth_year": 1948}],
    "tags": ["electricity"],
}


async def test_a_person_without_an_id_number_is_helped_first_and_identified_after(
    client: httpx.AsyncClient, db: None
) -> None:
    loop = await build_loop()
    await add_offer(loop, quantity=5)
    staff = loop.auth("staff")
    refused = await client.post("/api/households", json=PERSON, headers=staff)
    assert refused.status_code == 400 and refused.json()["field"] == "id_number", refused.text

    created = await client.post(
        "/api/households",
        json={**PERSON, "without_id": "流浪人员，无身份证件，先行救助"},
        headers=staff,
    )
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["id_missing"] is True and household["id_number"] == ""
    twice = await client.post(
        "/api/households",
        json={**PERSON, "without_id": "同一人再次登记"},
        headers=staff,
    )
    assert twice.status_code == 409 and twice.json()["field"] == "head_name", "name + address"
    other = await client.post(
        "/api/households",
        json={**PERSON, "head_name": "另一位老人", "without_id": "无证件"},
        headers=staff,
    )
    assert other.status_code == 201, other.text

    helped = await client.post(
        "/api/emergencies",
        json={"household_id": household["id"], "item_code": "quilt", "reason": "寒潮夜宿街头"},
        headers=staff,
    )
    assert helped.status_code == 201, helped.text
    paperwork = f"/api/emergencies/{helped.json()['allocation_id']}/paperwork"
    early = await client.post(paperwork, headers=staff)
    assert early.status_code == 409 and early.json()["field"] == "id_number", early.text
    verify = await client.post(f"/api/households/{household['id']}/verify", headers=staff)
    assert verify.status_code == 409 and verify.json()["field"] == "id_number"

    identified = await client.patch(
        f"/api/households/{household['id']}",
        json={"id_number": id_number(sequence=77)},
        headers=staff,
    )
    assert identified.status_code == 200, identified.text
    assert identified.json()["id_missing"] is False
    done = await client.post(paperwork, headers=staff)
    assert done.status_code == 200 and done.json()["paperwork_done_at"], done.text
    assert COUNTY  # the offer stands at the county's seat, next to the person
