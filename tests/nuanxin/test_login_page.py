"""The browser login page: CSRF-protected form, clear errors, safe redirects."""

from __future__ import annotations

import re

import httpx

from nuanxin.app import CSRF_COOKIE
from nuanxin.identity import Role
from tests.nuanxin.conftest import PASSWORD, make_user


async def login_form(client: httpx.AsyncClient, next_path: str = "/") -> dict[str, str]:
    page = await client.get("/login", params={"next": next_path})
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text and "登录" in page.text  # Chinese first
    english = await client.get("/login", params={"next": next_path, "lang": "en"})
    assert 'lang="en"' in english.text and "Log in" in english.text
    client.cookies.delete("nuanxin_lang")  # ?lang= remembered English: back to the default
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token, "the form carries the CSRF token"
    assert client.cookies.get(CSRF_COOKIE)
    return {"_csrf_token": token[1]}


async def test_a_browser_logs_in_and_is_sent_where_it_was_going(
    client: httpx.AsyncClient,
) -> None:
    await make_user("admin1", Role.admin)
    form = await login_form(client)
    response = await client.post(
        "/login",
        data={**form, "username": "admin1", "password": PASSWORD, "next": "/admin/"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/"
    assert (await client.get("/api/auth/me")).json()["username"] == "admin1"


async def test_a_wrong_password_shows_the_form_again_with_a_message(
    client: httpx.AsyncClient,
) -> None:
    await make_user("admin1", Role.admin)
    form = await login_form(client)
    response = await client.post("/login", data={**form, "username": "admin1", "password": "wrong"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.text
    assert 'value="admin1"' in response.text


async def test_a_form_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await make_user("admin1", Role.admin)
    await login_form(client)
    response = await client.post("/login", data={"username": "admin1", "password": PASSWORD})
    assert response.status_code == 403


async def test_login_never_redirects_to_another_site(client: httpx.AsyncClient) -> None:
    await make_user("admin1", Role.admin)
    form = await login_form(client)
    response = await client.post(
        "/login",
        data={**form, "username": "admin1", "password": PASSWORD, "next": "//evil.example/"},
    )
    assert response.headers["location"] == "/staff"  # the admin's start page, on this site


async def test_a_browser_that_is_not_logged_in_is_sent_to_the_login_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/admin/", headers={"accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/"
