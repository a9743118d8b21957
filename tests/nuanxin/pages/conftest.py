"""Fixtures of the page tests: the authorisation world (two counties, two charities, records)."""

from __future__ import annotations

import httpx
import pytest

from tests.nuanxin.authz.model import Caller
from tests.nuanxin.authz.world import World, build_world


@pytest.fixture
async def world(client: httpx.AsyncClient) -> World:
    return await build_world()


async def get_page(
    client: httpx.AsyncClient, world: World, caller: Caller, path: str, lang: str = "zh-CN"
) -> httpx.Response:
    """A page as a caller sees it, in a language (``?lang=``)."""
    joiner = "&" if "?" in path else "?"
    return await client.get(f"{path}{joiner}lang={lang}", headers=world.headers(caller))
