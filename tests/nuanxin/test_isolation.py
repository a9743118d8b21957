"""The canary: one test's rows are invisible to the next (each runs in its own transaction)."""

from __future__ import annotations

import pytest

from nuanxin.regions.tables import Region

CANARY = "999999"


async def _canary_is_alone() -> None:
    assert not await Region.exists().where(Region.code == CANARY).run(), (
        "a row written by another test is visible: tests are not isolated"
    )
    await Region.insert(
        Region(code=CANARY, name="金丝雀", full_name="金丝雀", level="county", lat=0, lon=0)
    ).run()
    assert await Region.exists().where(Region.code == CANARY).run()


@pytest.mark.parametrize("turn", ["first", "second"])
async def test_a_tests_rows_are_invisible_to_the_next_test(db: None, turn: str) -> None:
    await _canary_is_alone()
