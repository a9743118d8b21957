"""Warehouses in bulk, for loaders and benchmarks; one audit entry per load."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nuanxin.audit.services import record_bulk
from nuanxin.db import insert_many
from nuanxin.warehouses.tables import Warehouse

__all__ = ("insert_warehouses",)


async def insert_warehouses(rows: Iterable[Mapping[str, Any]], *, label: str) -> list[int]:
    """Insert warehouses (columns of ``warehouse``); their ids in order."""
    ids = await insert_many(Warehouse, rows)
    await record_bulk(entity="warehouse", ids=ids, label=label)
    return ids
