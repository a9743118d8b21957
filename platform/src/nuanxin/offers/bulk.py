"""Offers in bulk, for loaders and benchmarks; one audit entry per load.

The ledger's rule holds here too: a new offer's stock is all available (``available`` equals
``quantity``, nothing reserved, delivered or withdrawn), whatever the caller passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from nuanxin.audit.services import record_bulk
from nuanxin.db import insert_many
from nuanxin.offers.tables import Offer

__all__ = ("insert_offers",)


def _all_available(rows: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for row in rows:
        if int(row["quantity"]) < 0:
            raise ValueError("an offer's quantity is never negative")
        yield {**row, "available": row["quantity"], "reserved": 0, "delivered": 0, "withdrawn": 0}


async def insert_offers(rows: Iterable[Mapping[str, Any]], *, label: str) -> list[int]:
    """Insert open offers (columns of ``offer``, without the stock counters); ids in order."""
    ids = await insert_many(Offer, _all_available(rows))
    await record_bulk(entity="offer", ids=ids, label=label)
    return ids
