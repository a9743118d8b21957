"""The item catalogue: what a unit of each item is, and which household tags it needs."""

from __future__ import annotations

from dataclasses import dataclass

from nuanxin.db import atomic
from nuanxin.offers.tables import Item

__all__ = ("CATALOGUE", "CatalogueItem", "seed_catalogue")


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogueItem:
    code: str
    kind: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    requires: tuple[str, ...] = ()


def _coats(prefix: str, zh: str, en: str, sizes: tuple[str, ...]) -> list[CatalogueItem]:
    return [
        CatalogueItem(
            code=f"{prefix}_{size.lower()}",
            kind=prefix,
            name_zh=f"{zh}（{size}码）",
            name_en=f"{en}, size {size}",
            unit_zh="件",
            unit_en="piece",
        )
        for size in sizes
    ]


CATALOGUE: tuple[CatalogueItem, ...] = (
    CatalogueItem(
        code="coal",
        kind="coal",
        name_zh="取暖煤（25公斤袋装）",
        name_en="Heating coal, 25 kg bag",
        unit_zh="袋",
        unit_en="bag",
        requires=("coal_stove",),
    ),
    *_coats("coat_adult", "成人棉衣", "Adult cotton coat", ("S", "M", "L", "XL", "XXL")),
    *_coats("coat_child", "儿童棉衣", "Child cotton coat", ("110", "130", "150")),
    CatalogueItem(
        code="quilt",
        kind="quilt",
        name_zh="棉被",
        name_en="Cotton quilt",
        unit_zh="床",
        unit_en="quilt",
    ),
    CatalogueItem(
        code="electric_blanket",
        kind="electric_blanket",
        name_zh="电热毯",
        name_en="Electric blanket",
        unit_zh="条",
        unit_en="blanket",
        requires=("electricity",),
    ),
    CatalogueItem(
        code="stove",
        kind="stove",
        name_zh="取暖炉具",
        name_en="Heating stove",
        unit_zh="台",
        unit_en="stove",
    ),
)


async def seed_catalogue() -> int:
    """Insert the catalogue items that are missing; returns how many were added."""
    async with atomic():
        existing = {row["code"] for row in await Item.select(Item.code).run()}
        missing = [item for item in CATALOGUE if item.code not in existing]
        if missing:
            await Item.insert(
                *(
                    Item(
                        code=item.code,
                        kind=item.kind,
                        name_zh=item.name_zh,
                        name_en=item.name_en,
                        unit_zh=item.unit_zh,
                        unit_en=item.unit_en,
                        requires=list(item.requires),
                    )
                    for item in missing
                )
            ).run()
    return len(missing)
