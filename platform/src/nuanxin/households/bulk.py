"""Households, their members and needs in bulk, for loaders and benchmarks.

The caller vouches for the rows (a generator's): no duplicate search and no needs rules run
here; one audit entry per table and load.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from nuanxin.audit.services import record_bulk
from nuanxin.db import insert_many
from nuanxin.households.tables import Household, Member, Need

__all__ = ("insert_households", "insert_members", "insert_needs")


def _never_negative(rows: Iterable[Mapping[str, Any]], message: str) -> Iterator[Mapping[str, Any]]:
    # checked as the rows stream by: a failing row rolls back the whole load
    for row in rows:
        if int(row["quantity"]) < 0:
            raise ValueError(message)
        yield row


async def insert_households(rows: Iterable[Mapping[str, Any]], *, label: str) -> list[int]:
    """Insert households (columns of ``household``); their ids in order."""
    ids = await insert_many(Household, rows)
    await record_bulk(entity="household", ids=ids, label=label)
    return ids


async def insert_members(rows: Iterable[Mapping[str, Any]]) -> list[int]:
    """Insert household members (columns of ``member``), audited with their households."""
    return await insert_many(Member, rows)


async def insert_needs(rows: Iterable[Mapping[str, Any]], *, label: str) -> list[int]:
    """Insert needs (columns of ``need``); their ids in order."""
    ids = await insert_many(Need, _never_negative(rows, "a need's quantity is never negative"))
    await record_bulk(entity="need", ids=ids, label=label)
    return ids
