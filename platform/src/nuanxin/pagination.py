"""Pagination for every list: ``?limit=&offset=``, answered as a :class:`Page`."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter

__all__ = ("Page", "Pagination", "provide_pagination")

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Pagination(msgspec.Struct, frozen=True, kw_only=True):
    limit: int = DEFAULT_LIMIT
    offset: int = 0


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list, with the total so that clients can page through it."""

    items: list[T]
    total: int
    limit: int
    offset: int


async def provide_pagination(
    limit: Annotated[
        int, QueryParameter(ge=1, le=MAX_LIMIT, description="items per page")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, QueryParameter(ge=0, le=10_000_000, description="items to skip")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)
