"""piccolo-admin: the tables that change only through services are read-only there."""

from __future__ import annotations

import httpx
import pytest

from nuanxin.accounts.services import create_admin
from nuanxin.audit.services import record
from nuanxin.audit.tables import AuditEntry
from nuanxin.regions.tables import Region
from tests.nuanxin.conftest import PASSWORD, make_region

ADMIN_CSRF_COOKIE = "csrftoken"
ADMIN_CSRF_HEADER = "X-CSRFToken"
# piccolo-admin warns on every login outside production (tests run with env "test").
pytestmark = pytest.mark.filterwarnings("ignore:If running sessions in production:UserWarning")


async def admin_login(client: httpx.AsyncClient) -> dict[str, str]:
    """Log into the app (bearer) and into piccolo-admin (its session); the headers to use."""
    await create_admin(username="root1", password=PASSWORD)
    issued = await client.post("/api/auth/token", json={"username": "root1", "password": PASSWORD})
    headers = {"authorization": f"Bearer {issued.json()['token']}"}
    await client.get("/admin/", headers=headers)
    headers[ADMIN_CSRF_HEADER] = client.cookies.get(ADMIN_CSRF_COOKIE) or ""
    login = await client.post(
        "/admin/public/login/",
        json={"username": "root1", "password": PASSWORD},
        headers=headers,
    )
    assert login.status_code in (200, 303), login.text
    return headers


async def test_writes_through_the_admin_to_service_owned_tables_are_refused(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_login(client)
    for table in ("offer", "allocation", "delivery", "donation", "payment", "audit_entry"):
        read = await client.get(f"/admin/api/tables/{table}/", headers=headers)
        assert read.status_code == 200, (table, read.text)
        created = await client.post(f"/admin/api/tables/{table}/", json={}, headers=headers)
        assert created.status_code == 403, (table, created.text)
        emptied = await client.delete(f"/admin/api/tables/{table}/", headers=headers)
        assert emptied.status_code in (403, 405), (table, emptied.text)


async def test_an_audit_entry_cannot_be_changed_or_deleted_through_the_admin(
    client: httpx.AsyncClient,
) -> None:
    headers = await admin_login(client)
    await record(actor=None, actor_label="system", action="test.run", entity="test", entity_id=1)
    entry = await AuditEntry.select(AuditEntry.id).where(AuditEntry.action == "test.run").first()
    assert entry is not None
    url = f"/admin/api/tables/audit_entry/{entry['id']}/"
    assert (await client.get(url, headers=headers)).status_code == 200
    changed = await client.patch(url, json={"action": "test.rewritten"}, headers=headers)
    assert changed.status_code == 403, changed.text
    replaced = await client.put(url, json={"action": "test.rewritten"}, headers=headers)
    assert replaced.status_code == 403, replaced.text
    removed = await client.delete(url, headers=headers)
    assert removed.status_code == 403, removed.text
    assert await AuditEntry.count().where(AuditEntry.action == "test.run") == 1


async def test_other_tables_stay_editable_in_the_admin(client: httpx.AsyncClient) -> None:
    headers = await admin_login(client)
    county = await make_region()
    changed = await client.patch(
        f"/admin/api/tables/region/{county}/", json={"name": "改名区"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert await Region.select(Region.name).where(Region.id == county).first() == {"name": "改名区"}
