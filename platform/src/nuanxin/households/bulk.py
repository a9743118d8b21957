"""Households, their members and needs in bulk, for loaders and benchmarks.

The caller vouches for the rows (a generator's): no duplicate search and no needs rules run
here; one audit entry per table and load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from nuanxin.audit.services import record_bulk
from nuanxin.db import insert_many
from nuanxin.households.tables import Household, Member, Need

__all__ = ("insert_households", "insert_members", "insert_needs")


async def insert_households(rows: Sequence[Mapping[str, Any]], *, label: str) -> list[int]:
    """Insert households (columns of ``household``); their ids in order."""
    ids = await insert_many(Household, rows)
    await record_bulk(entity="household", ids=ids, label=label)
    return ids


async def insert_members(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert household members (columns of ``member``), audited with their households."""
    return await insert_many(Member, rows)


async def insert_needs(rows: Sequence[Mapping[str, Any]], *, label: str) -> list[int]:
    """Insert needs (columns of ``need``); their ids in order."""
    if any(int(row["quantity"]) < 0 for row in rows):
        raise ValueError("a need's quantity is never negative")
    ids = await insert_many(Need, rows)
    await record_bulk(entity="need", ids=ids, label=label)
    return ids
