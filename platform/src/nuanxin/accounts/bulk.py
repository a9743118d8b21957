"""Charities in bulk, for loaders and benchmarks (the synthetic province, fault and load tests).

The caller vouches for the rows (a generator's, not people's): no sign-up flow and no member
accounts; one audit entry per load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nuanxin.accounts.tables import Organization
from nuanxin.audit.services import record_bulk
from nuanxin.db import insert_many

__all__ = ("insert_organizations",)


async def insert_organizations(rows: Iterable[Mapping[str, Any]], *, label: str) -> list[int]:
    """Insert charities (columns of ``organization``); their ids in order."""
    ids = await insert_many(Organization, rows)
    await record_bulk(entity="organization", ids=ids, label=label)
    return ids
